"""Dagster assets: one thin module per stage over the Dagster-free core in ``narrative_tracker``.

Stages, in order: ``ingest`` (articles, quarantine) -> ``paragraphs`` -> ``embeddings`` -> ``narratives``
(codebook, codebook_assignments, discovered_narratives) -> ``trends`` (narrative_trends, alerts) -> ``search``
(search_index) -> ``publish`` (published_database). ``resources`` holds the database, model, codebook and
input resources; ``partitions`` the daily partitions, the pools and ``@daily_asset`` (daily assets
whose pool ``pipelines.definitions.build_definitions(settings)`` picks). ``pipelines.definitions`` loads
every asset and check of this package (``dg.load_assets_from_package_module``).
"""
