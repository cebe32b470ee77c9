"""NETINF: who infects whom, inferred from the order in which nodes adopt many cascades (no database, no Dagster).

Gomez-Rodriguez, Leskovec & Krause, *Inferring Networks of Diffusion and Influence*, KDD 2010 (and ACM TKDD
5(4), 2012). Each cascade is a set of ``(node, day)`` first adoptions. Node ``v`` of a cascade either caught it
from an earlier adopter ``u`` along an edge of the network, with the likelihood ``P(lag)`` of a transmission
taking that many days, or from outside the network (the "epsilon edge", likelihood ``epsilon``). NETINF looks for
the network of ``k`` edges under which the cascades are most likely, each explained by its most likely
propagation tree; the objective ``F(G) = sum over cascades of log P(c | best tree in G) - log P(c | epsilon
edges only)`` is monotone submodular, so the greedy choice — repeatedly add the edge with the largest gain — is
within ``1 - 1/e`` of the optimum, and lazy evaluation keeps it fast (re-evaluate only the top of a heap).

Adapted to dated (not timed) data, which is what articles give:

* **Days, not timestamps.** A transmission delay is exponential with mean ``mean_lag_days``; the adopter's
  moment inside its day is unknown (uniform), so the observed lag in whole days ``k`` has
  ``P(0) = 1 - (1 - e^-a) / a`` and ``P(k) = (1 - e^-a)(e^a - 1) / a * e^(-a k)`` for ``k >= 1``
  (``a = 1 / mean_lag_days``; they sum to 1).
* **Same-day ties.** Two outlets adopting on the same day may have gone either way: both directions are
  candidates with ``P(0)``. The true direction also collects the cascades where the lag is a day or more.
* **When to stop.** The published algorithm takes the number of edges ``k``; here the greedy stops when no edge
  improves the likelihood by ``min_gain`` nats (``max_edges`` is an extra cap), and an edge must improve the
  tree of at least ``min_support`` cascades. Defaults were chosen on generated cascades with day resolution
  (``narrative_tracker/network/simulate.py``; ``tests/test_influence.py`` checks precision and recall >= 0.8 on
  other seeds) and on EUvsDisinfo narratives before 2019 (docs/methods.md).
* **Warm start.** ``greedy`` can start from edges already chosen (last night's network) and a per-adoption
  "best parent so far": the nightly update continues the greedy on the cascades that changed instead of starting
  over (``narrative_tracker.network.influence``).
"""

from __future__ import annotations

import dataclasses
import heapq
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class NetinfSettings:
    mean_lag_days: float = 2.0  # mean delay of a transmission (exponential), in days
    epsilon: float = 1e-4  # likelihood of catching a cascade from outside the network
    max_lag_days: int = 30  # pairs further apart are never candidate transmissions
    min_gain: float = 10.0  # stop when the best edge adds less log-likelihood than this (nats)
    min_gain_rate: float = 0.5  # ... or less than this per cascade its source took part in (nats)
    min_support: int = 3  # an edge must be the best explanation of at least this many cascades
    max_edges: int = 20_000  # hard cap on the edges chosen

    def fingerprint(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(dataclasses.asdict(self).items()))


def lag_log_likelihood(lags: np.ndarray, mean_lag_days: float) -> np.ndarray:
    """``log P(k)`` of an observed lag of ``k`` whole days (see the module docstring)."""
    a = 1.0 / mean_lag_days
    lags = np.asarray(lags, dtype=np.float64)
    same_day = math.log(1.0 - (1.0 - math.exp(-a)) / a)
    later = math.log((1.0 - math.exp(-a)) * (math.exp(a) - 1.0) / a)
    return np.where(lags <= 0, same_day, later - a * lags)


@dataclasses.dataclass
class Pairs:
    """Candidate transmissions: for each, the source node, the target's adoption ``slot`` (one per cascade and
    adopter), the target node, the lag in days and the weight ``log P(lag) - log epsilon`` (> 0)."""

    source: np.ndarray
    target: np.ndarray
    slot: np.ndarray
    lag: np.ndarray
    weight: np.ndarray

    @classmethod
    def empty(cls) -> Pairs:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, np.zeros(0))

    def __len__(self) -> int:
        return len(self.source)

    def take(self, mask: np.ndarray) -> Pairs:
        return Pairs(self.source[mask], self.target[mask], self.slot[mask], self.lag[mask], self.weight[mask])

    @staticmethod
    def concat(parts: list[Pairs]) -> Pairs:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Pairs.empty()
        return Pairs(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Pairs)))


def cascade_pairs(cascade: np.ndarray, node: np.ndarray, day: np.ndarray, settings: NetinfSettings,
                  slot: np.ndarray | None = None) -> Pairs:
    """Every candidate transmission ``u -> v`` inside each cascade: ``u`` adopted no later than ``v`` and at most
    ``max_lag_days`` before (same-day pairs both ways). Rows are adoptions (one per cascade and node); ``slot``
    numbers them (default: row order)."""
    cascade, node, day = (np.asarray(x, dtype=np.int64) for x in (cascade, node, day))
    slot = np.arange(len(node), dtype=np.int64) if slot is None else np.asarray(slot, dtype=np.int64)
    if len(node) == 0:
        return Pairs.empty()
    order = np.lexsort((day, cascade))
    cascade, node, day, slot = cascade[order], node[order], day[order], slot[order]
    # within a cascade, sources of row j are the rows i with day[j] - max_lag <= day[i] <= day[j], i != j
    key = cascade * (1 << 32) + day  # days fit in 32 bits (days since 1970)
    lo = np.searchsorted(key, key - settings.max_lag_days, side="left")
    hi = np.searchsorted(key, key, side="right")
    counts = hi - lo
    targets = np.repeat(np.arange(len(node)), counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    sources = np.arange(len(targets)) + starts
    keep = sources != targets
    sources, targets = sources[keep], targets[keep]
    lag = day[targets] - day[sources]
    weight = lag_log_likelihood(lag, settings.mean_lag_days) - math.log(settings.epsilon)
    good = weight > 0
    sources, targets, lag, weight = sources[good], targets[good], lag[good], weight[good]
    return Pairs(node[sources], node[targets], slot[targets], lag, weight)


@dataclasses.dataclass
class Result:
    edges: list[tuple[int, int, float]]  # (source, target, gain) in the order chosen
    parent: np.ndarray  # per slot: the source node of its best in-network parent, -1 = from outside
    parent_weight: np.ndarray  # per slot: that parent's pair weight (0 = from outside)
    parent_lag: np.ndarray  # per slot: lag behind that parent in days (-1 = from outside)


def best_parents(pairs: Pairs, edges: set[tuple[int, int]], n_slots: int,
                 parent: np.ndarray | None = None, parent_weight: np.ndarray | None = None,
                 parent_lag: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each slot's most likely parent among ``edges`` (starting from the given parents, if any)."""
    parent = np.full(n_slots, -1, dtype=np.int64) if parent is None else parent.copy()
    parent_weight = np.zeros(n_slots) if parent_weight is None else parent_weight.copy()
    parent_lag = np.full(n_slots, -1, dtype=np.int64) if parent_lag is None else parent_lag.copy()
    if not edges or not len(pairs):
        return parent, parent_weight, parent_lag
    width = int(max(pairs.source.max(), pairs.target.max(), max(max(e) for e in edges))) + 1
    wanted = np.array(sorted(s * width + t for s, t in edges), dtype=np.int64)
    code = pairs.source * width + pairs.target
    inside = np.isin(code, wanted)
    sub = pairs.take(inside)
    # strongest pair per slot first, then keep the first row of each slot
    order = np.lexsort((-sub.weight, sub.slot))
    first = np.ones(len(order), dtype=bool)
    first[1:] = sub.slot[order][1:] != sub.slot[order][:-1]
    rows = order[first]
    better = sub.weight[rows] > parent_weight[sub.slot[rows]]
    rows = rows[better]
    parent[sub.slot[rows]] = sub.source[rows]
    parent_weight[sub.slot[rows]] = sub.weight[rows]
    parent_lag[sub.slot[rows]] = sub.lag[rows]
    return parent, parent_weight, parent_lag


def edge_gains(pairs: Pairs, width: int, parent_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per edge (code ``source * width + target``, ascending): the gain adding it would bring now, given each slot's
    best parent so far (``parent_weight``)."""
    if not len(pairs):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    code = pairs.source * width + pairs.target
    order = np.argsort(code, kind="stable")
    code = code[order]
    improve = np.maximum(pairs.weight[order] - parent_weight[pairs.slot[order]], 0.0)
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    return code[starts], np.add.reduceat(improve, starts)


def floors(codes: np.ndarray, width: int, source_cascades: np.ndarray, settings: NetinfSettings) -> np.ndarray:
    """The least gain each edge must bring (``min_gain``, or ``min_gain_rate`` per cascade of its source)."""
    return np.maximum(settings.min_gain, settings.min_gain_rate * np.asarray(source_cascades, dtype=np.float64)[codes // width])


def greedy(pairs: Pairs, n_slots: int, settings: NetinfSettings, source_cascades: np.ndarray,
           fixed: set[tuple[int, int]] | None = None, parent: np.ndarray | None = None, parent_weight: np.ndarray | None = None,
           parent_lag: np.ndarray | None = None) -> Result:
    """NETINF's lazy greedy over candidate ``pairs``.

    ``source_cascades[u]``: how many cascades node ``u`` adopted (all of them, not only those in ``pairs``): an edge
    must gain ``min_gain_rate`` nats per cascade of its source. ``fixed``: edges already in the network (a warm
    start); ``parent*``: each slot's best parent so far (default: everyone from outside). Returns the edges added
    (``fixed`` ones excluded) and every slot's final parent."""
    fixed = fixed or set()
    parent, parent_weight, parent_lag = best_parents(pairs, fixed, n_slots, parent, parent_weight, parent_lag)
    chosen: list[tuple[int, int, float]] = []
    if not len(pairs):
        return Result(chosen, parent, parent_weight, parent_lag)
    width = int(max(pairs.source.max(), pairs.target.max())) + 1
    code = pairs.source * width + pairs.target
    order = np.argsort(code, kind="stable")
    code, weight, slot = code[order], pairs.weight[order], pairs.slot[order]
    source, lag = pairs.source[order], pairs.lag[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    ends = np.r_[starts[1:], len(code)]
    edge_codes = code[starts]

    least = floors(edge_codes, width, source_cascades, settings)

    def gain(e: int) -> tuple[float, int]:
        improve = weight[starts[e]:ends[e]] - parent_weight[slot[starts[e]:ends[e]]]
        better = improve > 0
        return float(improve[better].sum()), int(better.sum())

    # initial upper bounds: gains against the starting parents, vectorised
    improve = np.maximum(weight - parent_weight[slot], 0.0)
    bounds = np.add.reduceat(improve, starts)
    counts = np.add.reduceat((improve > 0).astype(np.int64), starts)
    fixed_codes = {s * width + t for s, t in fixed}
    open_ = np.flatnonzero((bounds >= least) & (counts >= settings.min_support))
    heap = [(-float(bounds[e]), int(e)) for e in open_ if int(edge_codes[e]) not in fixed_codes]
    heapq.heapify(heap)
    while heap and len(chosen) < settings.max_edges:
        _, e = heapq.heappop(heap)
        value, support = gain(e)
        if value < least[e] or support < settings.min_support:
            continue  # gains only shrink as edges are added (submodularity): it never comes back
        if heap and value < -heap[0][0]:
            heapq.heappush(heap, (-value, e))
            continue
        s, t = divmod(int(edge_codes[e]), width)
        chosen.append((s, t, value))
        span = slice(starts[e], ends[e])
        better = weight[span] > parent_weight[slot[span]]
        rows = np.arange(starts[e], ends[e])[better]
        parent[slot[rows]] = source[rows]
        parent_weight[slot[rows]] = weight[rows]
        parent_lag[slot[rows]] = lag[rows]
    return Result(chosen, parent, parent_weight, parent_lag)
