"""Stage 4 — narratives: codebook detection per day, discovery over everything left unclaimed.

* ``apply_codebook``: write the codebook's narratives to ``narratives`` and embed its examples
  (``codebook_examples``); narratives removed from the codebook are removed with their assignments.
* ``assign_codebook``: score the paragraphs of a range of days (``narrative_tracker.detect``) and
  replace their ``method = 'codebook'`` rows in ``paragraph_narratives`` (one transaction).
* ``discover_narratives``: cluster every distinct paragraph text that no codebook narrative claimed
  (``narrative_tracker.discover``) and replace all discovered narratives and their assignments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db
from narrative_tracker.codebook import Codebook
from narrative_tracker.detect import score_paragraphs, thresholds_of
from narrative_tracker.discover import Clusterer, Reducer, discover
from narrative_tracker.embed import Embedder
from narrative_tracker.models import stable_hash
from narrative_tracker.stance import Stance, classify_stance

_ASSIGNMENT_SCHEMA = {
    "paragraph_id": pl.String,
    "narrative_id": pl.String,
    "partition_date": pl.Date,
    "score": pl.Float64,
    "confidence": pl.Float64,
    "similarity": pl.Float64,
    "keyword_match": pl.Boolean,
    "method": pl.String,
    "evidence": pl.String,
    "evidence_score": pl.Float64,
    "stance": pl.String,
    "stance_cue": pl.String,
    "model": pl.String,
    "assigned_at": pl.Datetime("us"),
}
_NARRATIVE_SCHEMA = {
    "narrative_id": pl.String,
    "label": pl.String,
    "description": pl.String,
    "origin": pl.String,
    "keywords": pl.List(pl.String),
    "threshold": pl.Float64,
    "terms": pl.List(pl.String),
    "paragraphs": pl.Int32,
    "representative_paragraph_ids": pl.List(pl.String),
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame):
    class _Ctx:
        def __enter__(self):
            con.register(name, frame)
            return frame

        def __exit__(self, *exc):
            con.unregister(name)

    return _Ctx()


def load_vectors(frame: pl.DataFrame, column: str = "embedding") -> np.ndarray:
    """An ``Array(Float32, d)`` polars column as a ``(n, d)`` float32 array."""
    if frame.height == 0:
        return np.zeros((0, 0), np.float32)
    return np.ascontiguousarray(frame[column].to_numpy(), dtype=np.float32)


# --------------------------------------------------------------------------------------------- codebook
@dataclass
class CodebookReport:
    narratives: int = 0
    examples_embedded: int = 0
    removed: list[str] = field(default_factory=list)


def apply_codebook(con: duckdb.DuckDBPyConnection, codebook: Codebook, embedder: Embedder) -> CodebookReport:
    """Write the codebook to ``narratives`` / ``codebook_examples``; embed examples not embedded yet."""
    report = CodebookReport(narratives=len(codebook.narratives))
    db.ensure_embedding_table(con, embedder.dim)
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
                "created_at": now,
                "updated_at": now,
            }
            for n in codebook.narratives
        ],
        schema=_NARRATIVE_SCHEMA,
    )
    ids = codebook.ids
    report.removed = [
        r[0]
        for r in con.execute(
            "SELECT narrative_id FROM narratives WHERE origin = 'codebook' AND NOT list_contains($ids, narrative_id)", {"ids": ids}
        ).fetchall()
    ]
    wanted_frame = pl.DataFrame(wanted, schema={"narrative_id": pl.String, "position": pl.Int32, "text": pl.String}, orient="row")
    with (
        _registered(con, "staged_examples", examples),
        _registered(con, "staged_wanted", wanted_frame),
        _registered(con, "staged_narratives", rows),
        db.transaction(con),
    ):
        db.run_script(con, "upsert_codebook_examples", {"model": embedder.name})
        db.run_script(con, "upsert_codebook_narratives", {"ids": ids})
        db.run_script(con, "refresh_narrative_sizes")
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


# --------------------------------------------------------------------------------------------- detection
@dataclass
class AssignReport:
    paragraphs: int = 0
    assignments: int = 0
    per_narrative: dict[str, int] = field(default_factory=dict)


def assign_codebook(
    con: duckdb.DuckDBPyConnection, codebook: Codebook, model: str, start: dt.date, end: dt.date
) -> AssignReport:
    """Score the paragraphs of days ``start``..``end`` and replace their codebook assignments."""
    report = AssignReport()
    examples = example_vectors(con, codebook, model)
    frame = con.execute(db.query("paragraph_vectors_in_partitions"), {"start": start, "end": end, "model": model}).pl()
    report.paragraphs = frame.height
    rows: dict[str, list] = {k: [] for k in _ASSIGNMENT_SCHEMA}
    if frame.height:
        scores = score_paragraphs(
            codebook,
            examples,
            load_vectors(frame),
            frame["text"].to_list(),
            frame["article_id"].to_list(),
            frame["position"].to_list(),
        )
        hits = np.argwhere(scores.assigned(thresholds_of(codebook)))
        now = _now()
        pids, days, texts = frame["paragraph_id"].to_list(), frame["partition_date"].to_list(), frame["text"].to_list()
        stances: dict[int, Stance] = {}
        for i, j in hits:
            if i not in stances:
                stances[i] = classify_stance(texts[i])
            stance = stances[i]
            narrative = codebook.narratives[j]
            rows["paragraph_id"].append(pids[i])
            rows["narrative_id"].append(narrative.id)
            rows["partition_date"].append(days[i])
            rows["score"].append(float(scores.score[i, j]))
            conf = float(scores.confidence[i, j])
            rows["confidence"].append(None if np.isnan(conf) else conf)
            rows["similarity"].append(float(scores.similarity[i, j]))
            rows["keyword_match"].append(bool(scores.keyword[i, j]))
            rows["method"].append("codebook")
            rows["evidence"].append(narrative.examples[int(scores.evidence[i, j])])
            rows["evidence_score"].append(float(scores.evidence_cosine[i, j]))
            rows["stance"].append(stance.stance)
            rows["stance_cue"].append(stance.cue)
            rows["model"].append(model)
            rows["assigned_at"].append(now)
            report.per_narrative[narrative.id] = report.per_narrative.get(narrative.id, 0) + 1
    staged = pl.DataFrame(rows, schema=_ASSIGNMENT_SCHEMA)
    report.assignments = staged.height
    with _registered(con, "staged_assignments", staged), db.transaction(con):
        con.execute(db.query("delete_assignments"), {"start": start, "end": end, "method": "codebook"})
        con.execute(db.query("insert_assignments"))
        db.run_script(con, "refresh_narrative_sizes")
    return report


# --------------------------------------------------------------------------------------------- discovery
@dataclass
class DiscoveryReport:
    candidates: int = 0  # distinct paragraph texts no codebook narrative claimed
    narratives: int = 0
    assigned_paragraphs: int = 0
    noise_share: float = 0.0
    top: list[tuple[str, str, int]] = field(default_factory=list)  # (id, label, paragraphs)


def discovered_id(text_hash: str) -> str:
    """Id of a discovered narrative: derived from its most central paragraph text."""
    return "d_" + stable_hash(text_hash, length=10)


def discover_narratives(
    con: duckdb.DuckDBPyConnection,
    model: str,
    reducer: Reducer | None = None,
    clusterer: Clusterer | None = None,
) -> DiscoveryReport:
    """Cluster the unclaimed paragraph texts of the whole database; replace all discovered narratives."""
    report = DiscoveryReport()
    frame = con.execute(db.query("discovery_candidates"), {"model": model}).pl()
    report.candidates = frame.height
    result = discover(load_vectors(frame), frame["text"].to_list(), reducer=reducer, clusterer=clusterer) if frame.height else None
    now = _now()
    narratives, members = [], []
    if result is not None:
        report.noise_share = result.noise_share
        hashes, texts = frame["text_hash"].to_list(), frame["text"].to_list()
        vectors = load_vectors(frame)
        for cluster in result.clusters:
            nid = discovered_id(hashes[cluster.representatives[0]])
            narratives.append(
                {
                    "narrative_id": nid,
                    "label": cluster.name,
                    "description": frame["text"][cluster.representatives[0]],
                    "origin": "discovered",
                    "keywords": None,
                    "threshold": None,
                    "terms": cluster.terms,
                    "paragraphs": 0,
                    "representative_paragraph_ids": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            closeness = vectors[cluster.members] @ cluster.centroid
            for row, score in zip(cluster.members.tolist(), closeness.tolist()):
                stance = classify_stance(texts[row])
                members.append({"text_hash": hashes[row], "narrative_id": nid, "score": score, "evidence": ", ".join(cluster.terms),
                                "stance": stance.stance, "stance_cue": stance.cue})
    staged_n = pl.DataFrame(narratives, schema=_NARRATIVE_SCHEMA)
    staged_m = pl.DataFrame(members, schema={"text_hash": pl.String, "narrative_id": pl.String, "score": pl.Float64,
                                             "evidence": pl.String, "stance": pl.String, "stance_cue": pl.String})
    with _registered(con, "staged_narratives", staged_n), _registered(con, "staged_members", staged_m), db.transaction(con):
        db.run_script(con, "replace_discovered", {"model": model, "now": now})
        db.run_script(con, "refresh_narrative_sizes")
    report.narratives = staged_n.height
    report.assigned_paragraphs = con.execute("SELECT count(*) FROM paragraph_narratives WHERE method = 'discovered'").fetchone()[0]
    report.top = [
        (r[0], r[1], r[2])
        for r in con.execute(
            "SELECT narrative_id, label, paragraphs FROM narratives WHERE origin = 'discovered' ORDER BY paragraphs DESC, narrative_id LIMIT 10"
        ).fetchall()
    ]
    return report
