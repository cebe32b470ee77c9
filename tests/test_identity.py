"""Discovered narratives keep their ids across runs; lineage is recorded; analyst decisions persist."""

import datetime as dt

import pytest

from narrative_tracker.embeddings.embed import embed_partitions
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.narratives.decisions import record_decision
from narrative_tracker.narratives.discover import HdbscanClusterer
from narrative_tracker.narratives.discovery_store import discover_narratives
from narrative_tracker.narratives.identity import match_clusters
from narrative_tracker.paragraphs.split import build_paragraphs

DAYS = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))


class Identity:
    def fit_transform(self, vectors):
        return vectors


def _discover(con, embedder, force=False):
    return discover_narratives(con, embedder.name, reducer=Identity(), clusterer=HdbscanClusterer(min_cluster_size=3, min_samples=2), force=force)


def _add(con, root, embedder, day, texts):
    for i, text in enumerate(texts):
        (root / f"{day}-{i}.txt").write_text(f"{day}\n\nHeadline {day} {i}\n\n{text}\n")
    ingest_paths(con, [root])
    build_paragraphs(con, *DAYS)
    embed_partitions(con, embedder, *DAYS)


FUEL = [f"Fuel prices rose again in town number {i}, drivers complained loudly." for i in range(4)]
BALL = [f"The football club number {i} won its match on Sunday evening." for i in range(4)]


def test_match_clusters_events():
    old = {"a": {1, 2, 3, 4}, "b": {5, 6, 7, 8, 9, 10}, "c": {11, 12}, "d": {20, 21}}
    new = [{1, 2, 3, 4, 11, 12}, {5, 6, 7}, {8, 9, 10}, {30, 31, 32}]
    ids, events = match_clusters(old, new)
    assert ids == ["a", "b", None, None]
    assert {(e[0], e[1], e[2]) for e in events} == {
        ("continued", 0, "a"), ("continued", 1, "b"), ("split", 2, "b"), ("new", 3, None),
        ("merged", "c", 0), ("retired", "d", None),
    }


@pytest.fixture
def two_topics(con, tmp_path, topic_embedder):
    root = tmp_path / "in"
    root.mkdir()
    _add(con, root, topic_embedder, "2022-01-05", FUEL + BALL)
    first = _discover(con, topic_embedder)
    assert first.narratives == 2 and first.events == {"new": 2}
    return con, root


def test_ids_continue_when_more_of_the_same_arrives(two_topics, topic_embedder):
    con, root = two_topics
    before = dict(con.execute("SELECT label, narrative_id FROM narratives WHERE origin = 'discovered'").fetchall())
    _add(con, root, topic_embedder, "2022-01-06", [t.replace("number", "no.") for t in FUEL + BALL])
    report = _discover(con, topic_embedder)
    assert report.events == {"continued": 2}
    after = {r[0] for r in con.execute("SELECT narrative_id FROM narratives WHERE origin = 'discovered'").fetchall()}
    assert after == set(before.values())
    events = con.execute("SELECT event, count(*) FROM narrative_lineage GROUP BY ALL ORDER BY 1").fetchall()
    assert events == [("continued", 2), ("new", 2)]


def test_unchanged_input_skips_discovery(two_topics, topic_embedder):
    con, _ = two_topics
    assert _discover(con, topic_embedder).skipped
    assert not _discover(con, topic_embedder, force=True).skipped


def test_decisions_persist_across_runs(two_topics, topic_embedder):
    con, _ = two_topics
    fuel, ball = (con.execute(
        f"SELECT narrative_id FROM narratives WHERE origin = 'discovered' AND description ILIKE '%{w}%'").fetchone()[0] for w in ("fuel", "football"))
    record_decision(con, fuel, "rename", "Fuel price anger")
    record_decision(con, ball, "reject", note="sport, not a narrative")
    for _ in range(2):
        _discover(con, topic_embedder, force=True)
        rows = dict(con.execute("SELECT narrative_id, label || '/' || status FROM narratives WHERE origin = 'discovered'").fetchall())
        assert rows[fuel] == "Fuel price anger/active" and rows[ball].endswith("/rejected")
        assert con.execute("SELECT count(*) FROM paragraph_narratives WHERE narrative_id = $n", {"n": ball}).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM paragraph_narratives WHERE narrative_id = $n", {"n": fuel}).fetchone()[0] == 4


def test_merge_moves_assignments(two_topics, topic_embedder):
    con, _ = two_topics
    a, b = (r[0] for r in con.execute("SELECT narrative_id FROM narratives WHERE origin = 'discovered' ORDER BY 1").fetchall())
    record_decision(con, a, "merge", b)
    _discover(con, topic_embedder, force=True)
    counts = dict(con.execute("SELECT narrative_id, count(*) FROM paragraph_narratives GROUP BY ALL").fetchall())
    assert counts == {b: 8}
    with pytest.raises(ValueError, match="not another narrative"):
        record_decision(con, a, "merge", "d_nope")


def test_a_new_cluster_never_takes_an_id_already_used(two_topics, topic_embedder):
    """Old narratives whose members all vanished are retired; new clusters with the same centre text get fresh ids."""
    con, _ = two_topics
    old_ids = {r[0] for r in con.execute("SELECT narrative_id FROM narratives WHERE origin = 'discovered'").fetchall()}
    con.execute("UPDATE discovered_members SET text_hash = 'x' || text_hash")  # no overlap with the next clustering
    report = _discover(con, topic_embedder, force=True)
    assert report.events == {"new": 2, "retired": 2}
    ids = [r[0] for r in con.execute("SELECT narrative_id FROM narratives WHERE origin = 'discovered'").fetchall()]
    assert len(set(ids)) == 2 and not set(ids) & old_ids


_RECOUNT = """
    SELECT pn.partition_date, pn.narrative_id, count(DISTINCT pn.paragraph_id), count(DISTINCT p.article_id)
    FROM paragraph_narratives pn JOIN paragraphs p USING (paragraph_id) GROUP BY ALL ORDER BY ALL"""
_STORED = "SELECT day, narrative_id, paragraphs, articles FROM narrative_daily_counts ORDER BY ALL"


def test_daily_counts_follow_every_change_to_the_assignments(two_topics, topic_embedder):
    con, root = two_topics
    assert con.execute(_STORED).fetchall() == con.execute(_RECOUNT).fetchall() != []
    a, b = (r[0] for r in con.execute("SELECT narrative_id FROM narratives WHERE origin = 'discovered' ORDER BY 1").fetchall())
    record_decision(con, a, "merge", b)  # a decision changes every day at once
    assert con.execute(_STORED).fetchall() == con.execute(_RECOUNT).fetchall()
    assert {r[1] for r in con.execute(_STORED).fetchall()} == {b}
    _add(con, root, topic_embedder, "2022-01-06", [t.replace("number", "no.") for t in FUEL])  # a new day
    _discover(con, topic_embedder)
    assert con.execute(_STORED).fetchall() == con.execute(_RECOUNT).fetchall()
    days = dict(con.execute("SELECT day, paragraphs FROM daily_paragraph_counts").fetchall())
    assert days == dict(con.execute("SELECT partition_date, count(*) FROM paragraphs GROUP BY ALL").fetchall())


def test_a_database_from_before_the_count_tables_gets_them_filled_on_open(two_topics, tmp_path):
    from narrative_tracker import schema

    con, _ = two_topics
    expected = con.execute(_STORED).fetchall()
    con.execute("DELETE FROM narrative_daily_counts; DELETE FROM daily_paragraph_counts")
    schema.apply_schema(con)  # what opening an older file for writing does
    assert con.execute(_STORED).fetchall() == expected != []


def test_a_forced_rerun_on_unchanged_input_keeps_ids_and_claim_labels(two_topics, topic_embedder):
    con, _ = two_topics
    query = "SELECT narrative_id, label, claim_label, terms FROM narratives WHERE origin = 'discovered' ORDER BY 1"
    before = con.execute(query).fetchall()
    report = _discover(con, topic_embedder, force=True)
    assert report.events == {"continued": 2}
    assert con.execute(query).fetchall() == before
    members = {s for t in FUEL + BALL for s in [t]}
    for _, label, claim, terms in before:
        assert label == claim and claim in members  # one-sentence paragraphs: the claim is a whole member
        assert terms and not {"number", "the", "again"} & {w for t in terms for w in t.split()}


def test_stance_of_discovered_narratives_comes_from_their_claim_and_unknown_is_shown(two_topics, topic_embedder):
    from narrative_tracker import schema
    from narrative_tracker.narratives.discovery_store import claim_stances

    assert claim_stances(None, ["a", "b"]) == [None, None]
    assert [s.stance for s in claim_stances("Fuel prices rose.", ["Fuel prices rose, officials denied the claims."])] == ["refutes"]
    con, _ = two_topics
    stances = con.execute("SELECT DISTINCT stance FROM paragraph_narratives WHERE method = 'discovered'").fetchall()
    assert None not in {s[0] for s in stances}
    con.execute("UPDATE paragraph_narratives SET stance = NULL, stance_cue = NULL WHERE method = 'discovered'")
    schema.refresh_daily_counts(con)
    row = con.execute("SELECT sum(paragraphs), sum(asserted), sum(unknown_stance) FROM narrative_daily WHERE origin = 'discovered'").fetchone()
    assert row == (8, 0, 8)
    outlets = con.execute("SELECT sum(asserted), sum(unknown_stance) FROM narrative_outlets").fetchone()
    assert outlets == (0, 8)


def test_promotion_round_trips_claim_description_and_sentences(two_topics, topic_embedder, tmp_path):
    """Promote a discovered narrative, load the codebook back, detect with it: the promoted narrative finds its members."""
    from narrative_tracker.narratives.claims import split_sentences
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.assign import apply_codebook, assign_codebook
    from narrative_tracker.narratives.decisions import promote_to_codebook

    con, _ = two_topics
    path = tmp_path / "book.yaml"
    path.write_text("# analysts' notes\ndetection: {default_threshold: 0.6, top_k: 1, keyword_bonus: 0.0}\nnarratives:\n"
                    "  - id: placeholder\n    label: Placeholder\n    examples: [\"Nothing to see here at all.\"]\n")
    nid, claim, terms = con.execute("SELECT narrative_id, claim_label, terms FROM narratives WHERE origin = 'discovered' "
                                    "AND claim_label ILIKE '%fuel%'").fetchone()
    examples = promote_to_codebook(con, nid, "fuel_prices", None, str(path))
    book = load_codebook(path)
    promoted = book.narrative("fuel_prices")
    assert promoted.label == claim and list(promoted.examples) == examples and examples[0] == claim
    assert claim in promoted.description and nid in promoted.description and terms[0] in promoted.description
    members = {s for t in FUEL for s in split_sentences(t)}
    assert len(examples) >= 2 and set(examples) <= members
    assert "# analysts' notes" in path.read_text()
    assert con.execute("SELECT status FROM narratives WHERE narrative_id = $n", {"n": nid}).fetchone()[0] == "promoted"
    apply_codebook(con, book, topic_embedder)
    assign_codebook(con, book, topic_embedder.name, *DAYS)
    found = con.execute("SELECT count(DISTINCT p.text) FROM paragraph_narratives JOIN paragraphs p USING (paragraph_id) "
                        "WHERE narrative_id = 'fuel_prices'").fetchone()[0]
    assert found == len(FUEL)


def _match_pairwise(old, new):
    """The definition, by intersecting every new cluster with every old narrative (what match_clusters computes
    through an index of members)."""
    from narrative_tracker.narratives.identity import CONTINUE_JACCARD, PARENT_SHARE

    pairs = sorted(((len(m & o) / len(m | o), j, oid) for j, m in enumerate(new) for oid, o in old.items() if m & o),
                   key=lambda p: (-p[0], p[1], p[2]))
    ids, taken, events = [None] * len(new), set(), set()
    for jac, j, oid in pairs:
        if jac >= CONTINUE_JACCARD and ids[j] is None and oid not in taken:
            ids[j] = oid
            taken.add(oid)
            events.add(("continued", j, oid))
    for j, m in enumerate(new):
        if ids[j] is None:
            parents = [(len(m & o) / len(o), oid) for oid, o in old.items() if o and len(m & o) / len(o) >= PARENT_SHARE]
            events.add(("split", j, max(parents)[1]) if parents else ("new", j, None))
    for oid, o in old.items():
        if oid not in taken:
            share, j = max(((len(new[j] & o) / len(o), j) for j in range(len(new))), default=(0.0, -1))
            events.add(("merged", oid, j) if share >= PARENT_SHARE else ("retired", oid, None))
    return ids, events


def test_match_clusters_agrees_with_the_pairwise_definition_on_random_reclusterings():
    import random

    rng = random.Random(7)
    for _ in range(200):
        members = list(range(rng.randint(5, 30)))
        old = {f"d_{k}": set(rng.sample(members, rng.randint(1, 5))) for k in range(rng.randint(0, 6))}
        new = [set(rng.sample(members, rng.randint(1, 5))) for _ in range(rng.randint(0, 6))]
        ids, events = match_clusters(old, new)
        expected_ids, expected_events = _match_pairwise(old, new)
        assert ids == expected_ids and {e[:3] for e in events} == expected_events
