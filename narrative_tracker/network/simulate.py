"""Generated cascades over a known outlet network: the ground truth the influence inference is checked against.

A directed network of ``nodes`` outlets (a few "leaders" with many followers, everyone else with a few), each
edge with a transmission probability. A cascade starts at one outlet (leaders more often), spreads along edges
as an independent cascade (each edge fires once, with its probability) after an exponential delay, and some
outlets also pick it up from outside the network (noise). Adoption times are then cut to whole days, as
articles carry dates, not times.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Simulation:
    edges: set[tuple[int, int]]  # the true network
    cascade: np.ndarray  # per adoption: cascade number
    node: np.ndarray  # per adoption: outlet number
    day: np.ndarray  # per adoption: whole day of adoption


def random_network(rng: np.random.Generator, nodes: int, leaders: int, leader_out: int, other_out: int) -> set[tuple[int, int]]:
    edges: set[tuple[int, int]] = set()
    for u in range(nodes):
        k = leader_out if u < leaders else other_out
        targets = rng.choice(np.delete(np.arange(nodes), u), size=k, replace=False)
        edges.update((u, int(v)) for v in targets)
    return edges


def simulate(seed: int = 0, nodes: int = 60, leaders: int = 6, leader_out: int = 8, other_out: int = 2,
             cascades: int = 600, transmit: float = 0.4, mean_lag_days: float = 2.0, noise: float = 0.01,
             horizon_days: int = 30) -> Simulation:
    """Cascades over a random network (see the module docstring); ``noise``: each outlet's chance of adopting a
    cascade from outside, at a uniform time within ``horizon_days`` of its start."""
    rng = np.random.default_rng(seed)
    edges = random_network(rng, nodes, leaders, leader_out, other_out)
    out: dict[int, list[int]] = {}
    for u, v in sorted(edges):
        out.setdefault(u, []).append(v)
    seed_weights = np.where(np.arange(nodes) < leaders, 5.0, 1.0)
    seed_weights /= seed_weights.sum()
    rows_c, rows_n, rows_t = [], [], []
    for c in range(cascades):
        start = float(c * 3)  # cascades start at different times; their days never matter across cascades
        times = {int(rng.choice(nodes, p=seed_weights)): start}
        for v in np.flatnonzero(rng.random(nodes) < noise):
            times.setdefault(int(v), start + rng.uniform(0, horizon_days))
        # Dijkstra-like: the earliest infection time of every node under fired edges with random delays
        frontier = sorted((t, n) for n, t in times.items())
        done: set[int] = set()
        while frontier:
            t, u = frontier.pop(0)
            if u in done:
                continue
            done.add(u)
            for v in out.get(u, []):
                if v in done or rng.random() >= transmit:
                    continue
                tv = t + rng.exponential(mean_lag_days)
                if tv < times.get(v, np.inf):
                    times[v] = tv
                    frontier.append((tv, v))
                    frontier.sort()
        for n, t in times.items():
            rows_c.append(c)
            rows_n.append(n)
            rows_t.append(int(np.floor(t)))
    return Simulation(edges, np.array(rows_c), np.array(rows_n), np.array(rows_t))


def precision_recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hits = len(found & truth)
    return (hits / len(found) if found else 0.0), (hits / len(truth) if truth else 0.0)
