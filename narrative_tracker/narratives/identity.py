"""Identity of discovered narratives across re-clustering: ids carry over by member overlap, lineage events.

A discovered narrative keeps its id while its members stay largely the same (``match_clusters``); a brand-new
cluster gets an id derived from its most central paragraph text (``discovered_id``).
"""

from __future__ import annotations

from collections import Counter

from narrative_tracker.models import stable_hash

CONTINUE_JACCARD = 0.2  # a new cluster continues an old narrative when their member sets overlap this much
PARENT_SHARE = 0.3  # ... or is a split / merge when it holds this share of an old narrative's members


def discovered_id(text_hash: str) -> str:
    """Id of a brand-new discovered narrative: derived from its most central paragraph text."""
    return "d_" + stable_hash(text_hash, length=10)


def match_clusters(old: dict[str, set[str]], new: list[set[str]]) -> tuple[list[str | None], list[tuple]]:
    """Give each new cluster the id of the old narrative it continues (or None), and list lineage events.

    Greedy one-to-one matching by Jaccard of member sets (>= ``CONTINUE_JACCARD``), best pairs first. A
    new cluster without a match that holds >= ``PARENT_SHARE`` of an old narrative's members is a *split*
    from it; an old narrative without a match that sent >= ``PARENT_SHARE`` of its members to one new
    cluster *merged* into it; other unmatched ones are *new* / *retired*. Events are
    ``(event, new_index or old_id, related old_id or new_index, overlap)``. Overlaps are counted through an index of
    members (one pass over them), not by intersecting every new cluster with every old narrative: discovery clusters
    every paragraph, so there are thousands of narratives on a large corpus.
    """
    owner: dict[str, list[str]] = {}  # member -> the old narratives holding it: overlaps come from one pass over members
    for oid, old_members in old.items():
        for member in old_members:
            owner.setdefault(member, []).append(oid)
    overlap: list[Counter] = []
    for members in new:
        counts: Counter = Counter()
        for member in members:
            counts.update(owner.get(member, ()))
        overlap.append(counts)
    pairs = []
    for j, members in enumerate(new):
        for oid, inter in overlap[j].items():
            pairs.append((inter / (len(members) + len(old[oid]) - inter), j, oid, inter))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    ids: list[str | None] = [None] * len(new)
    taken: set[str] = set()
    events = []
    for jaccard, j, oid, _ in pairs:
        if jaccard >= CONTINUE_JACCARD and ids[j] is None and oid not in taken:
            ids[j] = oid
            taken.add(oid)
            events.append(("continued", j, oid, jaccard))
    for j in range(len(new)):
        if ids[j] is not None:
            continue
        parents = [(inter / len(old[oid]), oid) for oid, inter in overlap[j].items() if inter / len(old[oid]) >= PARENT_SHARE]
        if parents:
            share, oid = max(parents)
            events.append(("split", j, oid, share))
        else:
            events.append(("new", j, None, None))
    sent: dict[str, tuple[float, int]] = {}  # old narrative -> (largest share of its members in one new cluster, that cluster)
    for j in range(len(new)):
        for oid, inter in overlap[j].items():
            share = inter / len(old[oid])
            if (share, j) > sent.get(oid, (0.0, -1)):
                sent[oid] = (share, j)
    for oid, old_members in old.items():
        if oid in taken:
            continue
        best = sent.get(oid, (0.0, -1)) if old_members else (0.0, -1)
        events.append(("merged", oid, best[1], best[0]) if best[0] >= PARENT_SHARE else ("retired", oid, None, None))
    return ids, events
