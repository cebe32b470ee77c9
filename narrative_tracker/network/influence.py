"""The outlet influence network: who takes narratives up after whom (no Dagster; the asset is ``assets/network.py``).

Every narrative — codebook or discovered, whatever ``paragraph_narratives`` holds at the time — is a cascade: the
outlets that carried it, each with its first day (``sql/queries/influence_adoptions.sql``). NETINF
(``narrative_tracker.network.netinf``) infers the directed outlet -> outlet network under which those cascades are
most likely, and the most likely parent of every adoption. Stored in DuckDB:

* ``narrative_cascades`` — one row per narrative and outlet: first day, lag, most likely parent, role in that
  cascade (leader / amplifier / follower / independent);
* ``outlet_influence`` — the edges: weight (how often the target took a narrative from the source, over the
  source's narratives), support, median lag, copied paragraphs (syndication, ``paragraph_copies``), NETINF gain;
* ``outlet_roles`` — per outlet over all narratives: how often it led, amplified, followed.

**Nightly, incrementally.** ``update_influence`` compares the adoptions with the stored cascades. Narratives whose
adoptions did not change keep their cascade; the changed ones get pairs and parents again, and the greedy continues
from the stored network with the candidate edges those cascades bring (each candidate's gain is still counted over
every cascade, through ``sql/queries/influence_candidate_pairs.sql``). Edges are added, never removed, by a nightly
update; a full rebuild starts over when the settings change, when there is no network yet, or once the narratives
changed since the last full rebuild exceed ``full_rebuild_share`` of all narratives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db
from narrative_tracker.network.netinf import NetinfSettings, Pairs, best_parents, cascade_pairs, greedy, lag_log_likelihood

SETTINGS_KEY = "influence_settings"
CHANGED_KEY = "influence_changed_since_full"
FULL_REBUILD_SHARE = 0.25  # a full rebuild once this share of the narratives changed since the last one
EPOCH = dt.date(1970, 1, 1)


@dataclasses.dataclass
class InfluenceReport:
    mode: str  # 'full', 'incremental' or 'unchanged'
    narratives: int  # cascades (narratives with at least one adoption)
    changed: int  # narratives whose adoptions changed since the last update
    adoptions: int
    edges: int
    new_edges: int
    seconds: float
    reason: str = ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute(db.query("get_meta"), {"key": key}).fetchone()
    return row[0] if row else None


def _days(dates: pl.Series) -> np.ndarray:
    return (dates.cast(pl.Date).cast(pl.Int32)).to_numpy().astype(np.int64)


def changed_narratives(current: pl.DataFrame, stored: pl.DataFrame) -> set[str]:
    """Narratives whose set of (outlet, first day) differs between the two frames (new and vanished ones included)."""
    keys = ["narrative_id", "outlet", "first_day"]
    a, b = current.select(keys), stored.select(keys)
    diff = pl.concat([a.join(b, on=keys, how="anti"), b.join(a, on=keys, how="anti")])
    return set(diff["narrative_id"].to_list())


def _cascade_rows(adoptions: pl.DataFrame, parent: np.ndarray, parent_lag: np.ndarray, outlets: list[str]) -> pl.DataFrame:
    """The ``narrative_cascades`` rows of ``adoptions`` (one cascade or several) given each row's parent index."""
    frame = adoptions.with_columns(
        parent_outlet=pl.Series([outlets[p] if p >= 0 else None for p in parent], dtype=pl.String),
        parent_lag_days=pl.Series([int(x) if x >= 0 else None for x in parent_lag], dtype=pl.Int32),
        lag_days=(pl.col("first_day") - pl.col("first_day").min().over("narrative_id")).dt.total_days().cast(pl.Int32),
    )
    followers = (frame.filter(pl.col("parent_outlet").is_not_null())
                 .group_by("narrative_id", "parent_outlet").agg(followers=pl.len().cast(pl.Int32))
                 .rename({"parent_outlet": "outlet"}))
    frame = frame.join(followers, on=["narrative_id", "outlet"], how="left").with_columns(pl.col("followers").fill_null(0))
    has_parent, followed = pl.col("parent_outlet").is_not_null(), pl.col("followers") > 0
    return frame.with_columns(
        role=pl.when(~has_parent & followed).then(pl.lit("leader"))
        .when(has_parent & followed).then(pl.lit("amplifier"))
        .when(has_parent).then(pl.lit("follower"))
        .otherwise(pl.lit("independent"))
    ).select("narrative_id", "outlet", "first_day", "paragraphs", "lag_days", "parent_outlet", "parent_lag_days",
             "followers", "role")


def _write(con: duckdb.DuckDBPyConnection, cascades: pl.DataFrame, touched: set[str], edges: pl.DataFrame, full: bool,
           settings: NetinfSettings, changed_since_full: int, now: dt.datetime) -> None:
    touched_frame = pl.DataFrame({"narrative_id": sorted(touched)}, schema={"narrative_id": pl.String})

    def work():
        with db.staged(con, staged_cascades=cascades, staged_touched=touched_frame, staged_edges=edges):
            db.run_script(con, "influence_write", {"full": full, "now": now})
        db.set_meta(con, SETTINGS_KEY, settings.fingerprint())
        db.set_meta(con, CHANGED_KEY, str(changed_since_full))

    db.overwrite(con, work)


def _edge_frame(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"source": pl.String, "target": pl.String, "gain": pl.Float64, "rank": pl.Int32},
                        orient="row")


def infer_network(adoptions: pl.DataFrame, settings: NetinfSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """NETINF over every cascade of ``adoptions`` (narrative_id, outlet, first_day, paragraphs): the edges
    (source, target, gain, rank) and the ``narrative_cascades`` rows (each adoption's parent and role)."""
    outlets = sorted(set(adoptions["outlet"].to_list()))
    index = {o: i for i, o in enumerate(outlets)}
    node = np.array([index[o] for o in adoptions["outlet"].to_list()], dtype=np.int64)
    cascade = adoptions["narrative_id"].rank("dense").to_numpy().astype(np.int64) if adoptions.height else np.zeros(0, np.int64)
    pairs = cascade_pairs(cascade, node, _days(adoptions["first_day"]), settings)
    result = greedy(pairs, adoptions.height, settings, np.bincount(node, minlength=len(outlets)))
    edges = _edge_frame([(outlets[s], outlets[t], g, k + 1) for k, (s, t, g) in enumerate(result.edges)])
    return edges, _cascade_rows(adoptions, result.parent, result.parent_lag, outlets)


def edge_statistics(edges: pl.DataFrame, cascades: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with support, weight and median lag counted from the cascades (what ``influence_write.sql`` stores,
    for use without a database): edges that explain no adoption are dropped."""
    support = (cascades.filter(pl.col("parent_outlet").is_not_null())
               .group_by(source="parent_outlet", target="outlet")
               .agg(support=pl.len(), median_lag_days=pl.col("parent_lag_days").median()))
    carried = cascades.group_by(source="outlet").agg(narratives=pl.len())
    return (edges.join(support, on=["source", "target"]).join(carried, on="source")
            .with_columns(weight=pl.col("support") / pl.col("narratives")).drop("narratives"))


def full_rebuild(con: duckdb.DuckDBPyConnection, current: pl.DataFrame, settings: NetinfSettings, now: dt.datetime,
                 stored_narratives: set[str]) -> tuple[int, int]:
    """Infer the network from every cascade and store it; returns (edges, new edges)."""
    edges, rows = infer_network(current, settings)
    _write(con, rows, stored_narratives | set(current["narrative_id"].to_list()), edges, True, settings, 0, now)
    return edges.height, edges.height


def incremental_update(con: duckdb.DuckDBPyConnection, current: pl.DataFrame, stored: pl.DataFrame,
                       changed: set[str], settings: NetinfSettings, now: dt.datetime, changed_since_full: int) -> tuple[int, int]:
    """Continue the greedy from the stored network over the changed cascades (module docstring); returns (edges, new edges)."""
    stored_edges = con.execute(db.query("influence_stored_edges")).pl()
    outlets = sorted(set(current["outlet"].to_list()) | set(stored_edges["source"].to_list()) | set(stored_edges["target"].to_list()))
    index = {o: i for i, o in enumerate(outlets)}
    fixed = {(index[s], index[t]) for s, t in zip(stored_edges["source"].to_list(), stored_edges["target"].to_list())}

    # 1. the changed cascades: every candidate pair, parents from the stored edges
    fresh = current.filter(pl.col("narrative_id").is_in(sorted(changed)))
    node = np.array([index[o] for o in fresh["outlet"].to_list()], dtype=np.int64)
    cascade = fresh["narrative_id"].rank("dense").to_numpy().astype(np.int64) if fresh.height else np.zeros(0, np.int64)
    pairs = cascade_pairs(cascade, node, _days(fresh["first_day"]), settings)
    width = len(outlets)
    fixed_codes = np.array(sorted(s * width + t for s, t in fixed), dtype=np.int64)
    is_new = ~np.isin(pairs.source * width + pairs.target, fixed_codes)
    candidates = sorted({(int(s), int(t)) for s, t in zip(pairs.source[is_new], pairs.target[is_new])})

    # 2. the same candidate edges in the unchanged cascades, with each target's stored parent as its best so far
    frame = pl.DataFrame({"source": [outlets[s] for s, _ in candidates], "target": [outlets[t] for _, t in candidates]},
                         schema={"source": pl.String, "target": pl.String})
    changed_frame = pl.DataFrame({"narrative_id": sorted(changed)}, schema={"narrative_id": pl.String})
    with db.staged(con, staged_candidates=frame, staged_changed=changed_frame):
        old = con.execute(db.query("influence_candidate_pairs"), {"max_lag": settings.max_lag_days}).pl()
    old_slots = old.select("narrative_id", "target", "parent_outlet", "parent_lag_days").unique(["narrative_id", "target"], maintain_order=True)
    slot_of = {(n, t): fresh.height + i for i, (n, t) in enumerate(zip(old_slots["narrative_id"].to_list(), old_slots["target"].to_list()))}
    old_lag = old["lag"].to_numpy().astype(np.int64)
    old_weight = lag_log_likelihood(old_lag, settings.mean_lag_days) - np.log(settings.epsilon)
    keep = old_weight > 0
    old_pairs = Pairs(
        np.array([index[s] for s in old["source"].to_list()], dtype=np.int64),
        np.array([index[t] for t in old["target"].to_list()], dtype=np.int64),
        np.array([slot_of[(n, t)] for n, t in zip(old["narrative_id"].to_list(), old["target"].to_list())], dtype=np.int64),
        old_lag, old_weight).take(keep)
    n_slots = fresh.height + old_slots.height
    parent = np.full(n_slots, -1, dtype=np.int64)
    parent_lag = np.full(n_slots, -1, dtype=np.int64)
    parent_weight = np.zeros(n_slots)
    stored_parent = old_slots["parent_outlet"].to_list()
    stored_lag = old_slots["parent_lag_days"].to_list()
    for i, (p, lag) in enumerate(zip(stored_parent, stored_lag)):
        if p is not None:
            parent[fresh.height + i] = index[p]
            parent_lag[fresh.height + i] = lag
            parent_weight[fresh.height + i] = float(lag_log_likelihood(np.array([lag]), settings.mean_lag_days)[0] - np.log(settings.epsilon))
    carried = current.group_by("outlet").len()
    source_cascades = np.zeros(width, dtype=np.int64)
    source_cascades[[index[o] for o in carried["outlet"].to_list()]] = carried["len"].to_numpy()
    result = greedy(Pairs.concat([pairs, old_pairs]), n_slots, settings, source_cascades, fixed=fixed,
                    parent=parent, parent_weight=parent_weight, parent_lag=parent_lag)

    # 3. rewrite the changed cascades, and the unchanged ones where a new edge now explains an adoption better
    reparented = {n for (n, _t), s in slot_of.items() if result.parent[s] != parent[s]}
    rows = [_cascade_rows(fresh, result.parent[: fresh.height], result.parent_lag[: fresh.height], outlets)]
    if reparented:
        again = stored.filter(pl.col("narrative_id").is_in(sorted(reparented)))
        new_parent = {(n, t): (outlets[result.parent[s]], int(result.parent_lag[s]))
                      for (n, t), s in slot_of.items() if n in reparented and result.parent[s] >= 0}
        p_idx, p_lag = [], []
        for n, o, p, lag in zip(again["narrative_id"].to_list(), again["outlet"].to_list(),
                                again["parent_outlet"].to_list(), again["parent_lag_days"].to_list()):
            p, lag = new_parent.get((n, o), (p, lag))
            p_idx.append(index[p] if p is not None else -1)
            p_lag.append(lag if lag is not None else -1)
        rows.append(_cascade_rows(again.select(current.columns), np.array(p_idx), np.array(p_lag), outlets))
    next_rank = (max(stored_edges["rank"].to_list()) if stored_edges.height else 0) + 1
    edges = pl.concat([stored_edges.select("source", "target", "gain", "rank").cast({"rank": pl.Int32}),
                       _edge_frame([(outlets[s], outlets[t], g, next_rank + k) for k, (s, t, g) in enumerate(result.edges)])])
    _write(con, pl.concat(rows), changed | reparented, edges, False, settings, changed_since_full, now)
    return edges.height, len(result.edges)


def update_influence(con: duckdb.DuckDBPyConnection, settings: NetinfSettings | None = None, full: bool = False,
                     full_rebuild_share: float = FULL_REBUILD_SHARE, now: dt.datetime | None = None) -> InfluenceReport:
    """Bring the influence network up to date with ``paragraph_narratives`` (incrementally when it can, see the
    module docstring; ``full=True`` forces a rebuild)."""
    began = time.perf_counter()
    settings = settings or NetinfSettings()
    now = now or _now()
    current = con.execute(db.query("influence_adoptions")).pl()
    stored = con.execute(db.query("influence_stored")).pl()
    changed = changed_narratives(current, stored)
    narratives = current["narrative_id"].n_unique()
    since_full = int(_meta(con, CHANGED_KEY) or 0) + len(changed)
    reason = ""
    if full:
        reason = "asked"
    elif _meta(con, SETTINGS_KEY) != settings.fingerprint():
        reason = "first build" if stored.is_empty() else "settings changed"
    elif since_full > full_rebuild_share * max(narratives, 1):
        reason = f"{since_full} narratives changed since the last full rebuild (> {full_rebuild_share:.0%})"
    if reason:
        edges, new = full_rebuild(con, current, settings, now, set(stored["narrative_id"].to_list()))
        mode = "full"
    elif changed:
        edges, new = incremental_update(con, current, stored, changed, settings, now, since_full)
        mode = "incremental"
    else:
        edges = con.execute("SELECT count(*) FROM outlet_influence").fetchone()[0]
        new, mode = 0, "unchanged"
    return InfluenceReport(mode, narratives, len(changed), current.height, edges, new, time.perf_counter() - began, reason)
