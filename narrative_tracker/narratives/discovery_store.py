"""Discovery in the database: cluster every paragraph text, keep narrative ids, write lineage, find each one's frame.

``discover_narratives`` clusters every distinct paragraph text (``narrative_tracker.narratives.discover``) — those
codebook narratives claimed too, so a discovered narrative is a *specific claim*, inside or outside the codebook's
frames —, carries ids over from the last run (``narrative_tracker.narratives.identity``) and replaces all
discovered narratives and their assignments in one transaction; analyst decisions are re-applied afterwards. Each
discovered narrative's *parent* is the codebook narrative most of its member texts carry
(``sql/queries/refresh_narrative_parents.sql``), recomputed on every run, also when clustering was skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db
from narrative_tracker.models import stable_hash
from narrative_tracker.narratives.decisions import apply_decisions
from narrative_tracker.embeddings.embed import Embedder
from narrative_tracker.narratives.discover import Clusterer, Reducer, discover
from narrative_tracker.narratives.frames import NARRATIVE_SCHEMA, load_vectors
from narrative_tracker.narratives.frames import now as _now
from narrative_tracker.narratives.identity import discovered_id, match_clusters
from narrative_tracker.narratives.stance import Stance
from narrative_tracker.narratives.stance_model import stance_of_pairs


@dataclass
class DiscoveryReport:
    candidates: int = 0  # distinct paragraph texts (all of them: discovery does not wait for the codebook)
    narratives: int = 0
    assigned_paragraphs: int = 0
    noise_share: float = 0.0
    skipped: bool = False  # nothing changed since the last discovery
    events: dict[str, int] = field(default_factory=dict)  # lineage events of this run
    top: list[tuple[str, str, int]] = field(default_factory=list)  # (id, label, paragraphs)
    under_codebook: dict[str, int] = field(default_factory=dict)  # codebook narrative -> active discovered narratives inside it
    narratives_outside: int = 0  # active discovered narratives outside every codebook frame



def claim_stances(claim: str | None, texts: list[str], vectors: np.ndarray | None = None,
                  vector_model: str | None = None) -> list[Stance | None]:
    """Stance of each text towards a discovered narrative's claim label, from the same per-pair stance model
    codebook assignments use (``narrative_tracker.narratives.stance_model``), so ``asserted`` means the same for both
    kinds. ``None`` (stored as NULL, shown as *stance unknown*) where there is no claim label to take a
    stance on. ``vectors`` (the texts' stored vectors, made by ``vector_model``) spare re-embedding."""
    if not claim:
        return [None] * len(texts)
    return [Stance(stance, cue) for stance, cue, _, _ in stance_of_pairs([claim] * len(texts), texts, vectors, vector_model)]


def discover_narratives(
    con: duckdb.DuckDBPyConnection,
    model: str,
    reducer: Reducer | None = None,
    clusterer: Clusterer | None = None,
    force: bool = False,
    embedder: Embedder | None = None,
) -> DiscoveryReport:
    """Cluster every paragraph text of the whole database into discovered narratives, then set their parents.

    Skipped when the set of candidate texts is the same as at the last discovery (``force`` overrides); the parents
    are recomputed either way.
    Narrative ids carry over from the previous run by member overlap (``match_clusters``); lineage events
    go to ``narrative_lineage``; analyst decisions (``narrative_decisions``) are applied afterwards.
    ``embedder`` (the one that made the stored vectors) ranks member sentences for the claim labels and terms
    for their diversity; without it the labels still come from member sentences (``narrative_tracker.narratives.claims``).
    """
    report = DiscoveryReport()
    frame = con.execute(db.query("discovery_candidates"), {"model": model}).pl()
    report.candidates = frame.height
    fingerprint = stable_hash(model, *frame["text_hash"].to_list())
    last = con.execute("SELECT value FROM pipeline_meta WHERE key = 'discovery_fingerprint'").fetchone()
    if not force and last is not None and last[0] == fingerprint:
        report.skipped = True
        with db.transaction(con):
            db.run_script(con, "refresh_narrative_parents")
        _fill_top(con, report)
        return report
    if embedder is not None and embedder.name != model:
        raise ValueError(f"the embedder {embedder.name!r} did not make the {model!r} vectors")
    embed = embedder.encode if embedder is not None else None
    result = (discover(load_vectors(frame), frame["text"].to_list(), reducer=reducer, clusterer=clusterer, embed=embed,
                        languages=frame["language"].to_list())
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
    staged_n = pl.DataFrame(narratives, schema=NARRATIVE_SCHEMA)
    staged_m = pl.DataFrame(members, schema={"text_hash": pl.String, "narrative_id": pl.String, "score": pl.Float64,
                                             "evidence": pl.String, "stance": pl.String, "stance_cue": pl.String})
    staged_l = pl.DataFrame(lineage, schema={"run_at": pl.Datetime("us"), "event": pl.String, "narrative_id": pl.String,
                                             "related_narrative_id": pl.String, "overlap": pl.Float64, "members": pl.Int32})
    with db.staged(con, staged_narratives=staged_n, staged_members=staged_m, staged_lineage=staged_l), db.transaction(con):
        db.run_script(con, "replace_discovered", {"model": model, "now": now})
        db.run_script(con, "refresh_narrative_parents")
        apply_decisions(con)
        db.set_meta(con, "discovery_fingerprint", fingerprint)
    report.narratives = staged_n.height
    report.assigned_paragraphs = con.execute("SELECT count(*) FROM paragraph_narratives WHERE method = 'discovered'").fetchone()[0]
    _fill_top(con, report)
    return report


def _fill_top(con: duckdb.DuckDBPyConnection, report: DiscoveryReport) -> None:
    levels = dict(con.execute(
        "SELECT coalesce(parent_narrative_id, ''), count(*) FROM narratives WHERE origin = 'discovered' AND status = 'active' "
        "GROUP BY ALL ORDER BY 1").fetchall())
    report.narratives_outside = levels.pop("", 0)
    report.under_codebook = levels
    report.top = [
        (r[0], r[1], r[2])
        for r in con.execute(
            "SELECT narrative_id, label, paragraphs FROM narratives WHERE origin = 'discovered' AND status = 'active' "
            "ORDER BY paragraphs DESC, narrative_id LIMIT 10"
        ).fetchall()
    ]
