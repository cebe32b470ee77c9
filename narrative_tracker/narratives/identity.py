"""Identity of discovered narratives across re-clustering: ids carry over by member overlap, lineage events.

A discovered narrative keeps its id while its members stay largely the same (``match_clusters``); a brand-new
cluster gets an id derived from its most central paragraph text (``discovered_id``).
"""

from __future__ import annotations

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
