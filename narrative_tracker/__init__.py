"""narrative-tracker: the Dagster-free core, one subpackage per pipeline stage, in order.

1. ``ingest/``      files -> ``articles`` / ``quarantine``: ``files`` (ingest_paths), ``formats/`` (text, html, csv/jsonl,
                    feeds), ``dates``, ``language``.
2. ``paragraphs/``  articles -> cleaned ``paragraphs``: ``clean`` (block rules), ``split`` (build_paragraphs).
3. ``embeddings/``  paragraph texts -> ``paragraph_embeddings``: ``embed`` (the model, embed_partitions).
4. ``narratives/``  codebook detection and discovery: ``codebook`` (YAML), ``detect`` (scores), ``stance``,
                    ``assign`` (codebook detection in the database), ``discover`` (UMAP + HDBSCAN),
                    ``identity`` (ids across runs), ``discovery_store`` (discovery in the database), ``decisions``
                    (analyst rename / merge / reject / promote), ``alerts``, ``frames`` (shared frame schemas).
5. ``surfaces/``    what people read: ``report`` (HTML), ``charts``, ``search``, ``summary``, ``preview``.
6. ``evaluation/``  measuring quality (not run by the pipeline): ``evaluate`` (labelled paragraphs), ``semeval``.

Shared: ``settings`` (every environment variable, read only there), ``db`` (DuckDB, the SQL files in ``sql/``,
working / published copies), ``models`` (parsed-article records, hashing).
The Dagster layer over this core is ``assets/`` (one module per stage) and ``pipelines/`` (definitions, CLI).
"""
