"""The outlet influence network: who takes narratives up after whom (no Dagster; the asset is ``assets/network.py``).

Every narrative — codebook or discovered, whatever ``paragraph_narratives`` holds at the time — is a cascade: the
outlets that carried it, each with its first day (``sql/queries/influence_adoptions.sql``). NETINF
(``narrative_tracker.network.netinf``) infers the directed outlet -> outlet network under which those cascades are
most likely, and the most likely parent of every adoption. Stored in DuckDB:

* ``narrative_cascades`` — one row per narrative and outlet: first day, lag, most likely parent, role in that
  cascade (leader / amplifier / follower / independent);
* ``outlet_influence`` — the edges: weight (how often the target took a narrative from the source, over the
  source's narratives), support, median lag, NETINF gain (the ``outlet_copies`` view beside it counts copying);
* ``outlet_roles`` — per outlet over all narratives: how often it led, amplified, followed.

**Nightly, incrementally.** A fingerprint of each narrative's assignments (``paragraph_narratives`` alone, no join)
tells which narratives may have changed since the last update (``cascade_fingerprints``); only their adoptions are
computed again and compared with the stored cascades. Narratives whose adoptions did not change keep their cascade;
the changed ones get pairs and parents again, and the greedy continues from the stored network with the candidate
edges those cascades bring (each candidate's gain is still counted over every cascade it occurs in). A nightly
update adds edges and recounts every edge's statistics (an edge that explains nothing any more is dropped); a full
rebuild starts over when the settings change, when there is no network yet, or once the narratives changed since
the last full rebuild exceed ``full_rebuild_share`` of all narratives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db
from narrative_tracker.network.netinf import (NetinfSettings, Pairs, best_parents, cascade_pairs, edge_gains, floors, greedy,
                                              lag_log_likelihood)

SETTINGS_KEY = "influence_settings"
CHANGED_KEY = "influence_changed_since_full"
FULL_REBUILD_SHARE = 0.25  # a full rebuild once this share of the narratives changed since the last one
ADOPTION_SCHEMA = {"narrative_id": pl.String, "outlet": pl.String, "first_day": pl.Date, "paragraphs": pl.Int64}
ADOPTION_COLUMNS = list(ADOPTION_SCHEMA)
CASCADE_SCHEMA = ADOPTION_SCHEMA | {"lag_days": pl.Int32, "parent_outlet": pl.String, "parent_lag_days": pl.Int32,
                                    "followers": pl.Int32, "role": pl.String}
_CASCADE_COLUMNS = list(CASCADE_SCHEMA)
CANDIDATE_SHARE = 0.5  # influence_candidates keeps the edges whose gain may reach this share of their threshold


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


def _cascades(adoptions: pl.DataFrame) -> np.ndarray:
    """A number per narrative; the rows of a narrative must be contiguous (as the queries return them)."""
    ids = adoptions["narrative_id"]
    return (ids != ids.shift(1)).fill_null(True).cum_sum().to_numpy().astype(np.int64)


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
    ).select(_CASCADE_COLUMNS)


def _write(con: duckdb.DuckDBPyConnection, cascades: pl.DataFrame | None, touched: set[str], edges: pl.DataFrame | None,
           fingerprints: pl.DataFrame, flagged: list[str], full: bool, settings: NetinfSettings, changed_since_full: int,
           now: dt.datetime, candidates: pl.DataFrame | None = None, weighed: pl.DataFrame | None = None) -> None:
    """One transaction: the cascades of the ``touched`` narratives, the fingerprints of the ``flagged`` ones, the
    ``candidates`` bounds of the ``weighed`` edges; with ``edges``, the edges and roles recomputed from every cascade."""
    ids = {"narrative_id": pl.String}
    pair = {"source": pl.String, "target": pl.String}
    frames = {"staged_cascades": cascades if cascades is not None else pl.DataFrame(schema=CASCADE_SCHEMA),
              "staged_touched": pl.DataFrame({"narrative_id": sorted(touched)}, schema=ids),
              "staged_flagged": pl.DataFrame({"narrative_id": sorted(flagged)}, schema=ids),
              "staged_fingerprints": fingerprints,
              "staged_candidates": candidates if candidates is not None else pl.DataFrame(schema=pair | {"bound": pl.Float64}),
              "staged_weighed": weighed if weighed is not None else pl.DataFrame(schema=pair),
              "staged_edges": edges if edges is not None else _edge_frame([])}

    def work():
        with db.staged(con, **frames):
            db.run_script(con, "influence_write_cascades", {"full": full, "now": now})
            if edges is not None:
                db.run_script(con, "influence_write_network", {"now": now})
        db.set_meta(con, SETTINGS_KEY, settings.fingerprint())
        db.set_meta(con, CHANGED_KEY, str(changed_since_full))

    db.overwrite(con, work)


def _candidate_frame(codes: np.ndarray, bounds: np.ndarray, width: int, outlets: list[str]) -> pl.DataFrame:
    """Edges (codes ``source * width + target``) with a bound of their gain, as ``influence_candidates`` holds them."""
    return pl.DataFrame({"source": [outlets[c // width] for c in codes.tolist()],
                         "target": [outlets[c % width] for c in codes.tolist()], "bound": bounds.astype(np.float64)},
                        schema={"source": pl.String, "target": pl.String, "bound": pl.Float64})


def _edge_frame(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"source": pl.String, "target": pl.String, "gain": pl.Float64, "rank": pl.Int32},
                        orient="row")


def infer_network(adoptions: pl.DataFrame, settings: NetinfSettings) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """NETINF over every cascade of ``adoptions`` (narrative_id, outlet, first_day, paragraphs): the edges
    (source, target, gain, rank), the ``narrative_cascades`` rows (each adoption's parent and role) and the near
    misses (``influence_candidates``: edges outside whose gain is at least ``CANDIDATE_SHARE`` of their threshold)."""
    adoptions = adoptions.sort("narrative_id", "first_day", "outlet")
    outlets = sorted(set(adoptions["outlet"].to_list()))
    index = {o: i for i, o in enumerate(outlets)}
    node = np.array([index[o] for o in adoptions["outlet"].to_list()], dtype=np.int64)
    pairs = cascade_pairs(_cascades(adoptions), node, _days(adoptions["first_day"]), settings)
    carried = np.bincount(node, minlength=len(outlets))
    result = greedy(pairs, adoptions.height, settings, carried)
    edges = _edge_frame([(outlets[s], outlets[t], g, k + 1) for k, (s, t, g) in enumerate(result.edges)])
    width = len(outlets)
    codes, gains = edge_gains(pairs, width, result.parent_weight)
    chosen = np.sort(np.array([s * width + t for s, t, _ in result.edges], dtype=np.int64))
    near = (gains >= CANDIDATE_SHARE * floors(codes, width, carried, settings)) & ~_member(codes, chosen)
    rows = _cascade_rows(adoptions, result.parent, result.parent_lag, outlets)
    return edges, rows, _candidate_frame(codes[near], gains[near], width, outlets)


def edge_statistics(edges: pl.DataFrame, cascades: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with support, weight and median lag counted from the cascades (what ``influence_write_network.sql``
    stores, for use without a database); edges that explain no adoption are left out."""
    support = (cascades.filter(pl.col("parent_outlet").is_not_null())
               .group_by(source="parent_outlet", target="outlet")
               .agg(support=pl.len(), median_lag_days=pl.col("parent_lag_days").median()))
    carried = cascades.group_by(source="outlet").agg(narratives=pl.len())
    return (edges.join(support, on=["source", "target"]).join(carried, on="source")
            .with_columns(weight=pl.col("support") / pl.col("narratives")).drop("narratives"))


def adoptions(con: duckdb.DuckDBPyConnection, narratives: list[str] | None) -> pl.DataFrame:
    """The adoptions of the given narratives (all when None), from ``paragraph_narratives``."""
    return _of(con, "influence_adoptions", narratives)


def _keys(frame: pl.DataFrame, columns: list[str]) -> set[tuple]:
    return set(zip(*(frame[c].to_list() for c in columns)))


def _of(con: duckdb.DuckDBPyConnection, query: str, narratives: list[str] | None) -> pl.DataFrame:
    only = pl.DataFrame({"narrative_id": narratives or []}, schema={"narrative_id": pl.String})
    with db.staged(con, staged_narratives=only):
        return con.execute(db.query(query), {"all": narratives is None}).pl()


def full_rebuild(con: duckdb.DuckDBPyConnection, fingerprints: pl.DataFrame, held: set[str], settings: NetinfSettings,
                 now: dt.datetime, every: pl.DataFrame | None = None) -> tuple[int, int, int]:
    """Infer the network from every cascade (``every``: the adoptions, when already at hand) and store it; returns
    (adoptions, edges, new edges)."""
    every = adoptions(con, None) if every is None else every.select(ADOPTION_COLUMNS)
    edges, rows, near = infer_network(every, settings)
    _write(con, rows, held | set(every["narrative_id"].to_list()), edges, fingerprints, [], True, settings, 0, now, near)
    return every.height, edges.height, edges.height


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted, unique ``sorted_set`` by binary search (no sort of ``values``)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def incremental_update(con: duckdb.DuckDBPyConnection, current: pl.DataFrame, changed: set[str], fingerprints: pl.DataFrame,
                       flagged: list[str], settings: NetinfSettings, now: dt.datetime, changed_since_full: int,
                       recount: set[str] = frozenset()) -> tuple[int, int]:
    """Continue the greedy from the stored network over the changed cascades (module docstring); returns (edges, new edges).

    ``current`` holds every adoption: the stored cascades (with their parents) of the unchanged narratives, the new
    adoptions of the ``changed`` ones. A candidate is an edge outside the network that explains an adoption of a
    changed cascade better than its parent does; its gain over all cascades is at most what it adds there plus its
    bound in ``influence_candidates`` (or half its threshold when it is not there), so only the candidates whose
    bound reaches the threshold are weighed over every cascade. No outlet's narrative count may have dropped since the
    last update (``update_influence`` rebuilds then): thresholds never fall, so the bounds stay bounds."""
    stored_edges = con.execute(db.query("influence_stored_edges")).pl()
    near = con.execute(db.query("influence_candidates")).pl()
    before = dict(con.execute(db.query("influence_outlet_narratives")).fetchall())
    outlets = sorted(set(current["outlet"].to_list()) | set(stored_edges["source"].to_list()) | set(stored_edges["target"].to_list()))
    index = {o: i for i, o in enumerate(outlets)}
    width = len(outlets)
    fixed = {(index[s], index[t]) for s, t in zip(stored_edges["source"].to_list(), stored_edges["target"].to_list())}
    fixed_codes = np.array(sorted(s * width + t for s, t in fixed), dtype=np.int64)

    fresh = current["narrative_id"].is_in(sorted(changed)).to_numpy()
    parent = np.array([index[p] if p is not None else -1 for p in current["parent_outlet"].to_list()], dtype=np.int64)
    parent_lag = current["parent_lag_days"].fill_null(-1).to_numpy().astype(np.int64)
    parent[fresh], parent_lag[fresh] = -1, -1
    parent_weight = np.where(parent >= 0, lag_log_likelihood(parent_lag, settings.mean_lag_days) - np.log(settings.epsilon), 0.0)
    node = np.array([index[o] for o in current["outlet"].to_list()], dtype=np.int64)
    cascade, day = _cascades(current), _days(current["first_day"])
    carried = np.bincount(node, minlength=width)
    then = np.zeros(width, dtype=np.int64)
    then[[index[o] for o in before if o in index]] = [n for o, n in before.items() if o in index]

    # the changed cascades: their parents among the edges, then what each candidate would add there
    mine = cascade_pairs(cascade[fresh], node[fresh], day[fresh], settings, slot=np.flatnonzero(fresh))
    parent, parent_weight, parent_lag = best_parents(mine, fixed, len(current), parent, parent_weight, parent_lag)
    code = mine.source * width + mine.target
    outside = ~_member(code, fixed_codes)
    codes, added = edge_gains(mine.take(outside), width, parent_weight)
    codes, added = codes[added > 0], added[added > 0]
    known = dict(zip((index[s] * width + index[t] for s, t in zip(near["source"].to_list(), near["target"].to_list())
                      if s in index and t in index), near["bound"].to_list()))
    prior = np.array([known.get(c, np.nan) for c in codes.tolist()])
    prior = np.where(np.isnan(prior), CANDIDATE_SHARE * floors(codes, width, then, settings), prior)
    bound = added + prior
    weigh = np.sort(codes[bound >= floors(codes, width, carried, settings)])

    # the candidates worth weighing, over every cascade their two outlets share
    ends = np.unique(np.r_[weigh // width, weigh % width])
    rows = ~fresh & _member(node, ends)
    theirs = cascade_pairs(cascade[rows], node[rows], day[rows], settings, slot=np.flatnonzero(rows))
    pairs = Pairs.concat([mine.take(~outside | _member(code, weigh)), theirs.take(_member(theirs.source * width + theirs.target, weigh))])
    result = greedy(pairs, len(current), settings, carried, fixed=fixed, parent=parent, parent_weight=parent_weight,
                    parent_lag=parent_lag)

    # bounds: exact for the edges weighed (none for those added), what was added for the others
    taken = np.sort(np.array([s * width + t for s, t, _ in result.edges], dtype=np.int64))
    exact_codes, exact = edge_gains(pairs.take(_member(pairs.source * width + pairs.target, weigh)), width, result.parent_weight)
    rest = ~_member(codes, weigh)
    new_codes = np.r_[exact_codes, codes[rest]]
    new_bounds = np.r_[exact, bound[rest]]
    keep = (new_bounds >= CANDIDATE_SHARE * floors(new_codes, width, carried, settings)) & ~_member(new_codes, taken)
    candidates = _candidate_frame(new_codes[keep], new_bounds[keep], width, outlets)
    weighed = _candidate_frame(codes, np.zeros(len(codes)), width, outlets).drop("bound")

    # rewrite the changed cascades, those whose paragraph counts moved (``recount``), and the unchanged ones where a
    # new edge now explains an adoption better
    moved = ~fresh & (result.parent != parent)
    touched = changed | set(recount) | set(current.filter(pl.Series(moved))["narrative_id"].to_list())
    rewrite = current["narrative_id"].is_in(sorted(touched)).to_numpy()
    rows = _cascade_rows(current.select(ADOPTION_COLUMNS).filter(pl.Series(rewrite)), result.parent[rewrite],
                         result.parent_lag[rewrite], outlets)
    next_rank = (max(stored_edges["rank"].to_list()) if stored_edges.height else 0) + 1
    edges = pl.concat([stored_edges.select("source", "target", "gain", "rank").cast({"rank": pl.Int32}),
                       _edge_frame([(outlets[s], outlets[t], g, next_rank + k) for k, (s, t, g) in enumerate(result.edges)])])
    _write(con, rows, touched, edges, fingerprints, flagged, False, settings, changed_since_full, now, candidates, weighed)
    return edges.height, len(result.edges)


def update_influence(con: duckdb.DuckDBPyConnection, settings: NetinfSettings | None = None, full: bool = False,
                     full_rebuild_share: float = FULL_REBUILD_SHARE, now: dt.datetime | None = None) -> InfluenceReport:
    """Bring the influence network up to date with ``paragraph_narratives`` (incrementally when it can, see the
    module docstring; ``full=True`` forces a rebuild)."""
    began = time.perf_counter()
    settings = settings or NetinfSettings()
    now = now or _now()

    def report(mode: str, narratives: int, changed: int, adoptions: int, edges: int, new: int, reason: str = "") -> InfluenceReport:
        return InfluenceReport(mode, narratives, changed, adoptions, edges, new, time.perf_counter() - began, reason)

    prints = con.execute(db.query("influence_fingerprints")).pl()  # every narrative, and whether its assignments changed
    flagged = prints.filter(pl.col("changed"))["narrative_id"].to_list()
    keep = prints.filter(pl.col("fingerprint").is_not_null()).drop("changed")
    reason = "asked" if full else ""
    if not reason and _meta(con, SETTINGS_KEY) != settings.fingerprint():
        reason = "settings changed" if con.execute("SELECT count(*) FROM narrative_cascades").fetchone()[0] else "first build"
    if not reason and not flagged:  # no assignment moved since the last update
        return report("unchanged", keep.height, 0, 0, con.execute("SELECT count(*) FROM outlet_influence").fetchone()[0], 0)
    if not reason:
        # the flagged narratives' adoptions now, against what is stored: the narratives whose cascade really changed
        fresh, was = adoptions(con, flagged), _of(con, "influence_stored", flagged)
        keys = ADOPTION_COLUMNS[:3]  # narrative, outlet, first day: what the network is inferred from
        changed = {row[0] for row in _keys(fresh, keys) ^ _keys(was, keys)}
        # narratives whose outlets and days stayed but whose paragraph counts moved: the counts are rewritten as they are
        recount = {row[0] for row in _keys(fresh, ADOPTION_COLUMNS) ^ _keys(was, ADOPTION_COLUMNS)} - changed
        counts = (fresh.filter(pl.col("narrative_id").is_in(sorted(recount)))
                  .join(was.drop("paragraphs"), on=keys).select(_CASCADE_COLUMNS))
        since_full = int(_meta(con, CHANGED_KEY) or 0) + len(changed)
        touched_prints = keep.filter(pl.col("narrative_id").is_in(flagged))
        if not changed:  # assignments moved without changing any cascade: counts and fingerprints only
            _write(con, counts, recount, None, touched_prints, flagged, False, settings, since_full, now)
            return report("unchanged", keep.height, 0, fresh.height, con.execute("SELECT count(*) FROM outlet_influence").fetchone()[0], 0)
        stored = _of(con, "influence_stored", None)
        # the stored cascades of the unchanged narratives, then the changed ones as they are now (each narrative's rows together)
        columns = [*ADOPTION_COLUMNS, "parent_outlet", "parent_lag_days"]
        current = pl.concat([stored.filter(~pl.col("narrative_id").is_in(sorted(changed | recount))).select(columns),
                             counts.select(columns),
                             fresh.filter(pl.col("narrative_id").is_in(sorted(changed))).with_columns(
                                 parent_outlet=pl.lit(None, pl.String), parent_lag_days=pl.lit(None, pl.Int32))],
                            how="vertical_relaxed")
        narratives = current["narrative_id"].n_unique()
        before = dict(con.execute(db.query("influence_outlet_narratives")).fetchall())
        now_carried = dict(current.group_by("outlet").len().iter_rows())
        dropped = sorted(o for o, n in before.items() if now_carried.get(o, 0) < n)
        if dropped:
            reason = f"{len(dropped)} outlets carry fewer narratives than before (e.g. {dropped[0]})"
        elif since_full <= full_rebuild_share * max(narratives, 1):
            edges, new = incremental_update(con, current, changed, touched_prints, flagged, settings, now, since_full, recount)
            return report("incremental", narratives, len(changed), current.height, edges, new)
        else:
            reason = f"{since_full} narratives changed since the last full rebuild (> {full_rebuild_share:.0%})"
        count, edges, new = full_rebuild(con, keep, set(stored["narrative_id"].to_list()), settings, now, current)
        return report("full", narratives, len(changed), count, edges, new, reason)
    held = set(_of(con, "influence_stored", None)["narrative_id"].to_list())
    count, edges, new = full_rebuild(con, keep, held, settings, now)
    narratives = con.execute("SELECT count(DISTINCT narrative_id) FROM narrative_cascades").fetchone()[0]
    return report("full", narratives, len(flagged), count, edges, new, reason)
