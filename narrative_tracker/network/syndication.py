"""Syndication told apart from independent repetition: near-duplicate paragraphs grouped as copies.

The ``paragraph_syndication`` view has always grouped *exact* copies (same text once lower-cased and stripped of
punctuation and spacing). Copies are often edited, though: a quote trimmed, sentences moved, a dateline or a
"subscribe to our channel" line added. This module finds those with MinHash locality-sensitive hashing
(Broder 1997; Indyk & Motwani 1998; ``datasketch``) over word 3-shingles, then checks every candidate pair on the
shingle sets themselves: a pair is a copy when most shingles of the shorter text appear in the longer one
(overlap coefficient ``|A ∩ B| / min(|A|, |B|) >= min_overlap``). An independent paraphrase says the same in
other words, shares few 3-shingles, and stays apart however close its meaning (that is what the narrative
assignments are for).

Stored incrementally: ``text_minhash`` holds the LSH band keys of every distinct text of ``min_words`` words or
more (computed once per text); each run indexes only the texts not yet there and looks up their candidates with
one join on the band keys; ``text_copy_groups`` holds the groups (connected components of verified pairs), merged
as new texts link them. The views (``sql/schema/90_views.sql``) turn groups into copies: within a group, the
earliest outlet is the source and every paragraph of another outlet is a copy (``paragraph_copies``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import time

import duckdb
import numpy as np
import polars as pl

from narrative_tracker import db

SETTINGS_KEY = "syndication_settings"
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclasses.dataclass(frozen=True)
class SyndicationSettings:
    shingle: int = 3  # words per shingle
    num_perm: int = 64  # MinHash permutations
    lsh_threshold: float = 0.2  # Jaccard at which LSH finds a pair about half the time or more (datasketch's b, r)
    min_overlap: float = 0.6  # verified copy: share of the shorter text's shingles found in the longer one
    min_words: int = 8  # shorter paragraphs are left to the exact-copy key

    def fingerprint(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(dataclasses.asdict(self).items()))

    def bands(self) -> tuple[int, int]:
        """(bands, rows per band) that datasketch's MinHashLSH picks for the threshold."""
        return _bands(self.lsh_threshold, self.num_perm)


@functools.lru_cache(maxsize=None)
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    from datasketch import MinHashLSH  # datasketch integrates the false positive / negative areas (scipy)

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


@dataclasses.dataclass
class SyndicationReport:
    indexed: int  # texts newly indexed
    candidates: int  # candidate pairs LSH proposed
    verified: int  # of those, copies
    grouped_texts: int  # texts in a copy group, all told
    groups: int
    seconds: float
    rebuilt: bool


def shingles(text: str, size: int = 3) -> set[str]:
    """Word ``size``-shingles of the lower-cased text (punctuation dropped); a shorter text is one shingle."""
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def overlap(a: set[str], b: set[str]) -> float:
    """Overlap coefficient ``|a ∩ b| / min(|a|, |b|)`` (0 for an empty set)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def band_keys(sets: list[set[str]], settings: SyndicationSettings) -> np.ndarray:
    """``(len(sets), bands)`` signed 64-bit LSH keys: one MinHash per set (datasketch), cut into bands, hashed."""
    from datasketch import MinHash

    b, r = settings.bands()
    keys = np.zeros((len(sets), b), dtype=np.int64)
    if not sets:
        return keys
    hashes = MinHash.bulk([[s.encode("utf-8") for s in sorted(x)] for x in sets], num_perm=settings.num_perm, seed=1)
    for i, m in enumerate(hashes):
        values = np.asarray(m.hashvalues, dtype=np.uint64)
        for j in range(b):
            digest = hashlib.blake2b(values[j * r:(j + 1) * r].tobytes(), digest_size=8, person=bytes([j]) * 8).digest()
            keys[i, j] = int.from_bytes(digest, "little", signed=True)
    return keys


def find_copies(texts: list[str], settings: SyndicationSettings | None = None) -> set[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of ``texts`` that are copies of each other (LSH candidates, then verified) —
    the same decision ``update_copies`` stores, without a database."""
    settings = settings or SyndicationSettings()
    sets = [shingles(t, settings.shingle) for t in texts]
    eligible = [i for i, t in enumerate(texts) if len(t.split()) >= settings.min_words]  # as paragraphs.word_count
    keys = band_keys([sets[i] for i in eligible], settings)
    buckets: dict[tuple[int, int], list[int]] = {}
    for row, i in enumerate(eligible):
        for band, key in enumerate(keys[row]):
            buckets.setdefault((band, int(key)), []).append(i)
    candidates = {(min(a, b), max(a, b)) for members in buckets.values() for a in members for b in members if a != b}
    return {(a, b) for a, b in candidates if overlap(sets[a], sets[b]) >= settings.min_overlap}


def _union_find(pairs: list[tuple[str, str]], groups: dict[str, str]) -> dict[str, str]:
    """Connected components of the pairs and the existing groups (text -> group id): every text maps to the smallest
    group id (or text hash) of its component."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for text, group in groups.items():
        union(f"g:{group}", f"t:{text}")
    for a, b in pairs:
        union(f"t:{a}", f"t:{b}")
    label: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    for nodes in members.values():
        names = sorted(n[2:] for n in nodes if n.startswith("g:")) or sorted(n[2:] for n in nodes)
        for n in nodes:
            if n.startswith("t:"):
                label[n[2:]] = names[0]
    return label


def update_copies(con: duckdb.DuckDBPyConnection, settings: SyndicationSettings | None = None,
                  rebuild: bool = False) -> SyndicationReport:
    """Index the texts not yet indexed, verify their LSH candidates, merge the copy groups (module docstring).
    Everything is rebuilt when the settings changed since the last run, or when ``rebuild``."""
    began = time.perf_counter()
    settings = settings or SyndicationSettings()
    row = con.execute(db.query("get_meta"), {"key": SETTINGS_KEY}).fetchone()
    rebuild = rebuild or (row[0] if row else None) != settings.fingerprint()
    todo = con.execute(db.query("copies_texts_to_index"), {"min_words": settings.min_words, "rebuild": rebuild}).pl()
    sets = [shingles(t, settings.shingle) for t in todo["text"].to_list()]
    keys = band_keys(sets, settings)
    bands = pl.DataFrame({
        "text_hash": np.repeat(np.array(todo["text_hash"].to_list(), dtype=object), keys.shape[1]) if len(todo) else [],
        "band": np.tile(np.arange(keys.shape[1], dtype=np.int16), len(todo)),
        "bucket": keys.reshape(-1),
    }, schema={"text_hash": pl.String, "band": pl.Int16, "bucket": pl.Int64})
    with db.staged(con, staged_bands=bands):
        candidates = con.execute(db.query("copies_candidates"), {"rebuild": rebuild}).pl()
    pairs = {(min(a, b), max(a, b)) for a, b in zip(candidates["a"].to_list(), candidates["b"].to_list())}
    own = dict(zip(todo["text_hash"].to_list(), sets))
    needed = sorted({h for p in pairs for h in p} - own.keys())
    with db.staged(con, staged_hashes=pl.DataFrame({"text_hash": needed}, schema={"text_hash": pl.String})):
        others = con.execute(db.query("copies_texts")).pl()
    own.update({h: shingles(t, settings.shingle) for h, t in zip(others["text_hash"].to_list(), others["text"].to_list())})
    verified = [(a, b, overlap(own[a], own[b])) for a, b in sorted(pairs) if a in own and b in own]
    verified = [(a, b, s) for a, b, s in verified if s >= settings.min_overlap]
    touched = sorted({h for a, b, _ in verified for h in (a, b)})
    with db.staged(con, staged_hashes=pl.DataFrame({"text_hash": touched}, schema={"text_hash": pl.String})):
        existing = con.execute(db.query("copies_groups_of"), {"rebuild": rebuild}).pl()
    labels = _union_find([(a, b) for a, b, _ in verified],
                         dict(zip(existing["text_hash"].to_list(), existing["group_id"].to_list())))
    best: dict[str, float] = dict(zip(existing["text_hash"].to_list(), existing["similarity"].to_list()))
    for a, b, s in verified:
        best[a] = max(best.get(a) or 0.0, s)
        best[b] = max(best.get(b) or 0.0, s)
    groups = pl.DataFrame({"text_hash": list(labels), "group_id": [labels[h] for h in labels],
                           "similarity": [best.get(h) for h in labels]},
                          schema={"text_hash": pl.String, "group_id": pl.String, "similarity": pl.Float64})

    def work():
        with db.staged(con, staged_bands=bands, staged_groups=groups):
            db.run_script(con, "copies_write", {"rebuild": rebuild, "now": _now()})
        db.set_meta(con, SETTINGS_KEY, settings.fingerprint())

    db.overwrite(con, work)
    grouped, n_groups = con.execute("SELECT count(*), count(DISTINCT group_id) FROM text_copy_groups").fetchone()
    return SyndicationReport(len(todo), len(pairs), len(verified), grouped, n_groups, time.perf_counter() - began, rebuild)


def _now():
    from narrative_tracker.network.influence import _now as now

    return now()
