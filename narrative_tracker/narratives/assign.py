"""Codebook detection in the database.

* ``apply_codebook``: write the codebook's narratives to ``narratives`` and embed its examples
  (``codebook_examples``); narratives removed from the codebook are removed with their assignments.
* ``assign_codebook``: score the paragraphs of a range of days (``narrative_tracker.narratives.detect``) and
  replace their ``method = 'codebook'`` rows in ``paragraph_narratives`` (one transaction).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db, schema
from narrative_tracker.embeddings.embed import Embedder
from narrative_tracker.narratives.codebook import Codebook
from narrative_tracker.narratives.decisions import apply_decisions
from narrative_tracker.narratives.detect import apply_heads, relative_assigned, score_paragraphs
from narrative_tracker.narratives.frames import ASSIGNMENT_SCHEMA, NARRATIVE_SCHEMA, load_vectors
from narrative_tracker.narratives.frames import now as _now
from narrative_tracker.narratives.judge import allowed_pairs, decide


@dataclass
class CodebookReport:
    narratives: int = 0
    examples_embedded: int = 0
    removed: list[str] = field(default_factory=list)


def apply_codebook(con: duckdb.DuckDBPyConnection, codebook: Codebook, embedder: Embedder) -> CodebookReport:
    """Write the codebook to ``narratives`` / ``codebook_examples``; embed examples not embedded yet."""
    report = CodebookReport(narratives=len(codebook.narratives))
    schema.ensure_embedding_table(con, embedder.dim)
    now = _now()
    have = {
        (r[0], r[1], r[2])
        for r in con.execute("SELECT narrative_id, position, text FROM codebook_examples WHERE model = $m", {"m": embedder.name}).fetchall()
    }
    wanted = [(n.id, i, e) for n in codebook.narratives for i, e in enumerate(n.examples)]
    missing = [w for w in wanted if w not in have]
    examples = pl.DataFrame(
        {
            "narrative_id": [w[0] for w in missing],
            "position": [w[1] for w in missing],
            "text": [w[2] for w in missing],
            "model": [embedder.name] * len(missing),
            "embedding": pl.Series(embedder.encode([w[2] for w in missing]), dtype=pl.Array(pl.Float32, embedder.dim))
            if missing
            else pl.Series([], dtype=pl.Array(pl.Float32, embedder.dim)),
        }
    )
    report.examples_embedded = len(missing)
    rows = pl.DataFrame(
        [
            {
                "narrative_id": n.id,
                "label": n.label,
                "description": n.description,
                "origin": "codebook",
                "keywords": list(n.keywords) or None,
                "threshold": codebook.threshold(n.id),
                "terms": None,
                "paragraphs": 0,
                "representative_paragraph_ids": None,
                "status": "active",
                "created_at": now,
                "updated_at": now,
                "claim_label": None,
            }
            for n in codebook.narratives
        ],
        schema=NARRATIVE_SCHEMA,
    )
    ids = codebook.ids
    report.removed = [
        r[0]
        for r in con.execute(
            "SELECT narrative_id FROM narratives WHERE origin = 'codebook' AND NOT list_contains($ids, narrative_id)", {"ids": ids}
        ).fetchall()
    ]
    wanted_frame = pl.DataFrame(wanted, schema={"narrative_id": pl.String, "position": pl.Int32, "text": pl.String}, orient="row")
    with db.staged(con, staged_examples=examples, staged_wanted=wanted_frame, staged_narratives=rows), db.transaction(con):
        db.run_script(con, "upsert_codebook_examples", {"model": embedder.name})
        db.run_script(con, "upsert_codebook_narratives", {"ids": ids})
        apply_decisions(con)
    return report


def example_vectors(con: duckdb.DuckDBPyConnection, codebook: Codebook, model: str) -> dict[str, np.ndarray]:
    frame = con.execute(db.query("codebook_example_vectors"), {"model": model}).pl()
    out = {}
    for narrative in codebook.narratives:
        part = frame.filter(pl.col("narrative_id") == narrative.id)
        if part.height != len(narrative.examples):
            raise RuntimeError(f"codebook examples of {narrative.id!r} are not embedded for {model!r}; materialise the codebook asset first")
        out[narrative.id] = load_vectors(part)
    return out


@dataclass
class AssignReport:
    paragraphs: int = 0
    assignments: int = 0
    per_narrative: dict[str, int] = field(default_factory=dict)
    detectors: dict[str, str] = field(default_factory=dict)  # narrative -> 'similarity' or the heads' key
    pair_model: str | None = None  # the pair model's key when it decided (stage 2), else None
    candidates: int = 0  # (paragraph, narrative) pairs stage 1 proposed to the pair model
    pair_calls: int = 0  # (claim, paragraph) pairs the pair model read
    fallback: int = 0  # candidate pairs left to stage 1: paragraphs in a language the pair model does not read


def assign_codebook(
    con: duckdb.DuckDBPyConnection, codebook: Codebook, model: str, start: dt.date, end: dt.date, stance_model=None,
    heads=None, pair_model=None,
) -> AssignReport:
    """Score the paragraphs of days ``start``..``end`` and replace their codebook assignments.

    Two stages (``narratives/judge.py``): the bi-encoder detector — trained ``heads`` (a
    :class:`~narrative_tracker.narratives.heads.Heads` for ``model``) for the narratives they have, else the
    similarity detector — proposes candidate pairs; ``pair_model`` (a
    :class:`~narrative_tracker.narratives.pair_model.PairModel`) decides relatedness and stance of each. Without a
    pair model stage 1 decides and ``stance_model`` (the frozen-feature model, default: the shipped one) gives the
    stance."""
    report = AssignReport()
    if heads is not None and heads.model != model:
        raise ValueError(f"the heads were trained on {heads.model!r} embeddings, this run uses {model!r}")
    examples = example_vectors(con, codebook, model)
    frame = con.execute(db.query("paragraph_vectors_in_partitions"), {"start": start, "end": end, "model": model}).pl()
    report.paragraphs = frame.height
    rows: dict[str, list] = {k: [] for k in ASSIGNMENT_SCHEMA}
    if frame.height:
        vectors = load_vectors(frame)
        scores = score_paragraphs(
            codebook,
            examples,
            vectors,
            frame["text"].to_list(),
            frame["article_id"].to_list(),
            frame["position"].to_list(),
        )
        reference = None
        if codebook.params.operating_point == "relative" and any(n.threshold is None for n in codebook.narratives):  # corpus-relative operating points need a background
            ref_vectors = load_vectors(con.execute(db.query("reference_vectors"), {"model": model}).pl())
            if len(ref_vectors):
                reference = score_paragraphs(codebook, examples, ref_vectors, [""] * len(ref_vectors)).similarity
        stage1 = apply_heads(scores, relative_assigned(scores, codebook, reference), heads, vectors)
        report.detectors = dict(zip(codebook.ids, scores.detectors))
        texts = frame["text"].to_list()
        decisions = decide(codebook, scores, stage1, texts, vectors, examples, frame["language"].to_list(), reference,
                           pair_model=pair_model, stance_model=stance_model, vector_model=model,
                           allowed=allowed_pairs(codebook, frame["partition_date"].to_list()))
        report.pair_model, report.candidates = decisions.pair_key, decisions.candidates
        report.pair_calls, report.fallback = decisions.pair_calls, decisions.fallback
        related, decided, hits = decisions.related, decisions.stance, np.argwhere(decisions.assigned)
        now = _now()
        pids, days = frame["paragraph_id"].to_list(), frame["partition_date"].to_list()
        for i, j in hits:
            narrative = codebook.narratives[j]
            stance, cue, stance_conf, stance_version = decided[(int(i), int(j))]
            pair_decided = not np.isnan(related[i, j])
            rows["paragraph_id"].append(pids[i])
            rows["narrative_id"].append(narrative.id)
            rows["partition_date"].append(days[i])
            rows["score"].append(float(scores.score[i, j]))
            conf = float(related[i, j]) if pair_decided else float(scores.confidence[i, j])
            rows["confidence"].append(None if np.isnan(conf) else conf)
            rows["similarity"].append(float(scores.similarity[i, j]))
            rows["keyword_match"].append(bool(scores.keyword[i, j]))
            rows["method"].append("codebook")
            rows["evidence"].append(narrative.examples[int(scores.evidence[i, j])])
            rows["evidence_score"].append(float(scores.evidence_cosine[i, j]))
            rows["stance"].append(stance)
            rows["stance_cue"].append(cue)
            rows["stance_confidence"].append(stance_conf)
            rows["stance_model"].append(stance_version)
            rows["model"].append(model)
            rows["detection_model"].append(scores.detectors[j])
            rows["assigned_at"].append(now)
            rows["related"].append(float(related[i, j]) if pair_decided else None)
            rows["pair_model"].append(pair_model.key if pair_decided else None)
            report.per_narrative[narrative.id] = report.per_narrative.get(narrative.id, 0) + 1
    staged = pl.DataFrame(rows, schema=ASSIGNMENT_SCHEMA)
    report.assignments = staged.height

    def write() -> None:  # the range's codebook rows replaced whole; retried on a DuckLake conflict
        con.execute(db.query("delete_assignments"), {"start": start, "end": end, "method": "codebook"})
        con.execute(db.query("insert_assignments"))
        db.run_script(con, "refresh_narrative_sizes")
        schema.refresh_daily_counts(con, start, end)

    with db.staged(con, staged_assignments=staged):
        db.overwrite(con, write)
    return report
