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
from narrative_tracker.detect import relative_assigned, score_paragraphs
from narrative_tracker.discover import Clusterer, Reducer, discover
from narrative_tracker.embed import Embedder
from narrative_tracker.models import stable_hash
from narrative_tracker.stance import Stance
from narrative_tracker.stance_model import stance_of_pairs

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
    "stance_confidence": pl.Float64,
    "stance_model": pl.String,
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
    "status": pl.String,
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "claim_label": pl.String,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def load_vectors(frame: pl.DataFrame, column: str = "embedding") -> np.ndarray:
    """An ``Array(Float32, d)`` polars column (a ``List`` on DuckLake, which stores ``FLOAT[]``) as a ``(n, d)``
    float32 array."""
    if frame.height == 0:
        return np.zeros((0, 0), np.float32)
    series = frame[column]
    if isinstance(series.dtype, pl.List):
        series = series.list.to_array(series.list.len().max())
    return np.ascontiguousarray(series.to_numpy(), dtype=np.float32)


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
                "status": "active",
                "created_at": now,
                "updated_at": now,
                "claim_label": None,
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


# --------------------------------------------------------------------------------------------- detection
@dataclass
class AssignReport:
    paragraphs: int = 0
    assignments: int = 0
    per_narrative: dict[str, int] = field(default_factory=dict)


def assign_codebook(
    con: duckdb.DuckDBPyConnection, codebook: Codebook, model: str, start: dt.date, end: dt.date, stance_model=None
) -> AssignReport:
    """Score the paragraphs of days ``start``..``end`` and replace their codebook assignments.
    ``stance_model``: a :class:`~narrative_tracker.stance_model.StanceModel` (default: the shipped one)."""
    report = AssignReport()
    examples = example_vectors(con, codebook, model)
    frame = con.execute(db.query("paragraph_vectors_in_partitions"), {"start": start, "end": end, "model": model}).pl()
    report.paragraphs = frame.height
    rows: dict[str, list] = {k: [] for k in _ASSIGNMENT_SCHEMA}
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
        hits = np.argwhere(relative_assigned(scores, codebook, reference))
        now = _now()
        pids, days, texts = frame["paragraph_id"].to_list(), frame["partition_date"].to_list(), frame["text"].to_list()
        # stance per (paragraph, narrative) pair: the claim is the narrative's label
        stances = stance_of_pairs([codebook.narratives[j].label for _, j in hits], [texts[i] for i, _ in hits],
                                  vectors[hits[:, 0]] if len(hits) else None, vector_model=model, model=stance_model)
        for (i, j), (stance, cue, stance_conf, stance_version) in zip(hits, stances):
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
            rows["stance"].append(stance)
            rows["stance_cue"].append(cue)
            rows["stance_confidence"].append(stance_conf)
            rows["stance_model"].append(stance_version)
            rows["model"].append(model)
            rows["assigned_at"].append(now)
            report.per_narrative[narrative.id] = report.per_narrative.get(narrative.id, 0) + 1
    staged = pl.DataFrame(rows, schema=_ASSIGNMENT_SCHEMA)
    report.assignments = staged.height

    def write() -> None:  # the range's codebook rows replaced whole; retried on a DuckLake conflict
        con.execute(db.query("delete_assignments"), {"start": start, "end": end, "method": "codebook"})
        con.execute(db.query("insert_assignments"))
        db.run_script(con, "refresh_narrative_sizes")
        db.refresh_daily_counts(con, start, end)

    with db.staged(con, staged_assignments=staged):
        db.overwrite(con, write)
    return report


# --------------------------------------------------------------------------------------------- discovery
CONTINUE_JACCARD = 0.2  # a new cluster continues an old narrative when their member sets overlap this much
PARENT_SHARE = 0.3  # ... or is a split / merge when it holds this share of an old narrative's members


@dataclass
class DiscoveryReport:
    candidates: int = 0  # distinct paragraph texts no codebook narrative claimed
    narratives: int = 0
    assigned_paragraphs: int = 0
    noise_share: float = 0.0
    skipped: bool = False  # nothing changed since the last discovery
    events: dict[str, int] = field(default_factory=dict)  # lineage events of this run
    top: list[tuple[str, str, int]] = field(default_factory=list)  # (id, label, paragraphs)


def claim_stances(claim: str | None, texts: list[str], vectors: np.ndarray | None = None,
                  vector_model: str | None = None) -> list[Stance | None]:
    """Stance of each text towards a discovered narrative's claim label, from the same per-pair stance model
    codebook assignments use (``narrative_tracker.stance_model``), so ``asserted`` means the same for both
    kinds. ``None`` (stored as NULL, shown as *stance unknown*) where there is no claim label to take a
    stance on. ``vectors`` (the texts' stored vectors, made by ``vector_model``) spare re-embedding."""
    if not claim:
        return [None] * len(texts)
    return [Stance(stance, cue) for stance, cue, _, _ in stance_of_pairs([claim] * len(texts), texts, vectors, vector_model)]


def discovered_id(text_hash: str) -> str:
    """Id of a brand-new discovered narrative: derived from its most central paragraph text."""
    return "d_" + stable_hash(text_hash, length=10)


def match_clusters(old: dict[str, set[str]], new: list[set[str]]) -> tuple[list[str | None], list[tuple]]:
    """Give each new cluster the id of the old narrative it continues (or None), and list lineage events.

    Greedy one-to-one matching by Jaccard of member sets (>= ``CONTINUE_JACCARD``), best pairs first. A
    new cluster without a match that holds >= ``PARENT_SHARE`` of an old narrative's members is a *split*
    from it; an old narrative without a match that sent >= ``PARENT_SHARE`` of its members to one new
    cluster *merged* into it; other unmatched ones are *new* / *retired*. Events are
    ``(event, new_index or old_id, related old_id or new_index, overlap)``.
    """
    pairs = []
    for j, members in enumerate(new):
        for oid, old_members in old.items():
            inter = len(members & old_members)
            if inter:
                pairs.append((inter / len(members | old_members), j, oid, inter))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    ids: list[str | None] = [None] * len(new)
    taken: set[str] = set()
    events = []
    for jaccard, j, oid, _ in pairs:
        if jaccard >= CONTINUE_JACCARD and ids[j] is None and oid not in taken:
            ids[j] = oid
            taken.add(oid)
            events.append(("continued", j, oid, jaccard))
    for j, members in enumerate(new):
        if ids[j] is not None:
            continue
        parents = [(len(members & m) / len(m), oid) for oid, m in old.items() if m and len(members & m) / len(m) >= PARENT_SHARE]
        if parents:
            share, oid = max(parents)
            events.append(("split", j, oid, share))
        else:
            events.append(("new", j, None, None))
    for oid, old_members in old.items():
        if oid in taken:
            continue
        shares = [(len(new[j] & old_members) / len(old_members), j) for j in range(len(new)) if old_members]
        best = max(shares, default=(0.0, -1))
        events.append(("merged", oid, best[1], best[0]) if best[0] >= PARENT_SHARE else ("retired", oid, None, None))
    return ids, events


def discover_narratives(
    con: duckdb.DuckDBPyConnection,
    model: str,
    reducer: Reducer | None = None,
    clusterer: Clusterer | None = None,
    force: bool = False,
    embedder: Embedder | None = None,
) -> DiscoveryReport:
    """Cluster the unclaimed paragraph texts of the whole database into discovered narratives.

    Skipped when the set of candidate texts is the same as at the last discovery (``force`` overrides).
    Narrative ids carry over from the previous run by member overlap (``match_clusters``); lineage events
    go to ``narrative_lineage``; analyst decisions (``narrative_decisions``) are applied afterwards.
    ``embedder`` (the one that made the stored vectors) ranks member sentences for the claim labels and terms
    for their diversity; without it the labels still come from member sentences (``narrative_tracker.claims``).
    """
    report = DiscoveryReport()
    frame = con.execute(db.query("discovery_candidates"), {"model": model}).pl()
    report.candidates = frame.height
    fingerprint = stable_hash(model, *frame["text_hash"].to_list())
    last = con.execute("SELECT value FROM pipeline_meta WHERE key = 'discovery_fingerprint'").fetchone()
    if not force and last is not None and last[0] == fingerprint:
        report.skipped = True
        _fill_top(con, report)
        return report
    if embedder is not None and embedder.name != model:
        raise ValueError(f"the embedder {embedder.name!r} did not make the {model!r} vectors")
    embed = embedder.encode if embedder is not None else None
    result = (discover(load_vectors(frame), frame["text"].to_list(), reducer=reducer, clusterer=clusterer, embed=embed)
              if frame.height else None)
    now = _now()
    old: dict[str, set[str]] = {}
    for nid, text_hash in con.execute("SELECT narrative_id, text_hash FROM discovered_members").fetchall():
        old.setdefault(nid, set()).add(text_hash)
    created = dict(con.execute("SELECT narrative_id, created_at FROM narratives WHERE origin = 'discovered'").fetchall())
    narratives, members, lineage = [], [], []
    if result is not None:
        report.noise_share = result.noise_share
        hashes, texts = frame["text_hash"].to_list(), frame["text"].to_list()
        vectors = load_vectors(frame)
        new_sets = [{hashes[r] for r in c.members.tolist()} for c in result.clusters]
        inherited, events = match_clusters(old, new_sets)
        taken = set(old) | {i for i in inherited if i}
        ids = []
        for inh, cluster in zip(inherited, result.clusters):
            nid, salt = inh, 0
            while nid is None or (inh is None and nid in taken):  # never reuse an id that meant another narrative
                nid = discovered_id(hashes[cluster.representatives[0]] + (f"#{salt}" if salt else ""))
                salt += 1
            taken.add(nid)
            ids.append(nid)
        for cluster, nid in zip(result.clusters, ids):
            narratives.append(
                {
                    "narrative_id": nid,
                    "label": cluster.name,
                    "claim_label": cluster.claim or None,
                    "description": texts[cluster.representatives[0]],
                    "origin": "discovered",
                    "keywords": None,
                    "threshold": None,
                    "terms": cluster.terms,
                    "paragraphs": 0,
                    "representative_paragraph_ids": None,
                    "status": "active",
                    "created_at": created.get(nid, now),
                    "updated_at": now,
                }
            )
            closeness = vectors[cluster.members] @ cluster.centroid
            stances = claim_stances(cluster.claim, [texts[row] for row in cluster.members.tolist()],
                                    vectors[cluster.members], model)
            for row, score, stance in zip(cluster.members.tolist(), closeness.tolist(), stances):
                members.append({"text_hash": hashes[row], "narrative_id": nid, "score": score, "evidence": cluster.claim or ", ".join(cluster.terms),
                                "stance": stance.stance if stance else None, "stance_cue": stance.cue if stance else None})
        for event, a, b, overlap in events:
            if event in ("continued", "split", "new"):
                nid, related = ids[a], b
                size = len(new_sets[a])
            else:  # merged / retired: about an old narrative
                nid, related, size = a, (ids[b] if b is not None and b >= 0 else None), 0
            lineage.append({"run_at": now, "event": event, "narrative_id": nid, "related_narrative_id": related,
                            "overlap": None if overlap is None else round(float(overlap), 4), "members": size})
            report.events[event] = report.events.get(event, 0) + 1
    else:
        for oid in old:
            lineage.append({"run_at": now, "event": "retired", "narrative_id": oid, "related_narrative_id": None, "overlap": None, "members": 0})
    staged_n = pl.DataFrame(narratives, schema=_NARRATIVE_SCHEMA)
    staged_m = pl.DataFrame(members, schema={"text_hash": pl.String, "narrative_id": pl.String, "score": pl.Float64,
                                             "evidence": pl.String, "stance": pl.String, "stance_cue": pl.String})
    staged_l = pl.DataFrame(lineage, schema={"run_at": pl.Datetime("us"), "event": pl.String, "narrative_id": pl.String,
                                             "related_narrative_id": pl.String, "overlap": pl.Float64, "members": pl.Int32})
    with db.staged(con, staged_narratives=staged_n, staged_members=staged_m, staged_lineage=staged_l), db.transaction(con):
        db.run_script(con, "replace_discovered", {"model": model, "now": now})
        apply_decisions(con)
        db.set_meta(con, "discovery_fingerprint", fingerprint)
    report.narratives = staged_n.height
    report.assigned_paragraphs = con.execute("SELECT count(*) FROM paragraph_narratives WHERE method = 'discovered'").fetchone()[0]
    _fill_top(con, report)
    return report


def _fill_top(con: duckdb.DuckDBPyConnection, report: DiscoveryReport) -> None:
    report.top = [
        (r[0], r[1], r[2])
        for r in con.execute(
            "SELECT narrative_id, label, paragraphs FROM narratives WHERE origin = 'discovered' AND status = 'active' "
            "ORDER BY paragraphs DESC, narrative_id LIMIT 10"
        ).fetchall()
    ]


# --------------------------------------------------------------------------------------------- decisions
DECISIONS = ("rename", "merge", "reject", "promote")


def record_decision(con: duckdb.DuckDBPyConnection, narrative_id: str, action: str, value: str | None = None, note: str | None = None,
                    before_commit=None) -> None:
    """Store an analyst decision and apply it now; it is re-applied after every later discovery.

    ``before_commit()`` runs inside the transaction, last: if it raises, the decision is not recorded.
    """
    if action not in DECISIONS:
        raise ValueError(f"action must be one of {DECISIONS}")
    known = con.execute("SELECT origin FROM narratives WHERE narrative_id = $n", {"n": narrative_id}).fetchone()
    if known is None:
        raise ValueError(f"no narrative {narrative_id!r} in this database")
    if action == "merge":
        target = con.execute("SELECT count(*) FROM narratives WHERE narrative_id = $n", {"n": value}).fetchone()[0]
        if not target or value == narrative_id:
            raise ValueError(f"merge target {value!r} is not another narrative of this database")
    if action in ("merge", "reject", "promote") and known[0] != "discovered":
        raise ValueError(f"{action} applies to discovered narratives; edit the codebook for {narrative_id!r}")
    with db.transaction(con):
        con.execute(
            "INSERT INTO narrative_decisions VALUES ($n, $a, $v, $t, $note)",
            {"n": narrative_id, "a": action, "v": value, "t": _now(), "note": note},
        )
        apply_decisions(con)
        if before_commit is not None:
            before_commit()


def apply_decisions(con: duckdb.DuckDBPyConnection) -> None:
    """Apply every recorded decision (latest per narrative and action wins) to narratives / assignments."""
    db.run_script(con, "apply_decisions")
    db.run_script(con, "refresh_narrative_sizes")
    db.refresh_daily_counts(con)


# --------------------------------------------------------------------------------------------- alerts
ALERT_MIN_VOLUME = 3  # paragraphs in one day before anything can alert
ALERT_Z = 3.0  # spike threshold on the z-score of the day's share against the 28 days before


def compute_alerts(con: duckdb.DuckDBPyConnection, min_volume: int = ALERT_MIN_VOLUME, z: float = ALERT_Z) -> int:
    """Recompute ``alerts`` from ``narrative_daily`` (method in ``sql/queries/compute_alerts.sql``); returns the count."""
    with db.transaction(con):
        db.run_script(con, "compute_alerts", {"min_volume": min_volume, "z": z, "now": _now()})
    return con.execute("SELECT count(*) FROM alerts").fetchone()[0]


# --------------------------------------------------------------------------------------------- promote
def promote_to_codebook(con: duckdb.DuckDBPyConnection, narrative_id: str, new_id: str, label: str | None,
                        codebook_path: str | None = None, examples: int = 8) -> list[str]:
    """Add a discovered narrative to the codebook and record the decision, both or neither.

    The entry carries its claim label (as the first example, and as the label unless ``label`` is given), a
    description (the claim, its distinctive terms and where it came from) and its representative sentences as
    examples: the most central member sentences (statements of at least four words, no questions, no repeats).
    The codebook (``codebook_path``, else the configured one) is edited through a validated temporary file
    renamed into place (``narrative_tracker.codebook_edit``); the rename happens inside the decision's
    transaction, so a failure of either leaves both as they were. Comments are kept where the entry can be
    appended as text (see ``appended_text``).
    """
    import logging
    import re as _re

    from narrative_tracker.claims import MIN_WORDS, split_sentences
    from narrative_tracker.codebook import codebook_path as configured_codebook
    from narrative_tracker.codebook import load_codebook
    from narrative_tracker.codebook_edit import appended_text, commit_codebook, discard, stage_codebook

    if not _re.match(r"^[a-z][a-z0-9_]{1,63}$", new_id):
        raise ValueError("the codebook id must be lower_snake_case")
    path = configured_codebook(codebook_path)
    book = load_codebook(path)
    if new_id in book.ids:
        raise ValueError(f"{new_id!r} is already in {path}")
    row = con.execute("SELECT claim_label, label, terms FROM narratives WHERE narrative_id = $n AND origin = 'discovered'",
                      {"n": narrative_id}).fetchone()
    texts = [r[0] for r in con.execute(
        "SELECT any_value(p.text) FROM discovered_members m JOIN paragraphs p USING (text_hash) "
        "WHERE m.narrative_id = $n GROUP BY m.text_hash ORDER BY max(m.score) DESC, m.text_hash LIMIT $k",
        {"n": narrative_id, "k": 4 * examples},
    ).fetchall()]
    if row is None or not texts:
        raise ValueError(f"{narrative_id!r} is not a discovered narrative with members in this database")
    claim, shown, terms = row[0] or "", row[1], row[2] or []
    chosen: list[str] = [claim] if claim else []
    for text in texts:
        for sentence in split_sentences(text) or [text]:
            if len(chosen) >= examples:
                break
            if len(sentence.split()) >= MIN_WORDS and not sentence.endswith("?") and sentence not in chosen:
                chosen.append(sentence)
    if len(chosen) < 2:  # short or question-only members: fall back to the whole most central paragraphs
        chosen += [t for t in texts if t not in chosen][: examples - len(chosen)]
    description = (f"{claim} " if claim else "") + (
        f"(Promoted from discovered narrative {narrative_id}; distinctive terms: {', '.join(terms) or 'none'}.)")
    entry = {"id": new_id, "label": label or shown or claim, "description": description, "examples": chosen}
    text, kept = appended_text(path.read_text(encoding="utf-8"), entry)
    if not kept:
        logging.getLogger(__name__).warning("%s: the entry could not be appended as text; the codebook was re-written "
                                            "whole and its comments dropped", path)
    tmp, _ = stage_codebook(path, text)
    try:
        record_decision(con, narrative_id, "promote", new_id, before_commit=lambda: commit_codebook(tmp, path))
    finally:
        discard(tmp)  # already renamed on success
    return chosen
