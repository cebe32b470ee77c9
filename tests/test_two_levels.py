"""Two levels of narrative: discovery clusters every paragraph (those the codebook claimed too); a discovered narrative
records the codebook narrative (frame) most of its members carry; views, alerts, the report and the desk's measure
show both levels; ids, parents and analyst decisions hold across nightly runs; older databases migrate."""

import datetime as dt

import pytest
from conftest import run_stages

from narrative_tracker import db, schema
from narrative_tracker.narratives.discover import HdbscanClusterer
from narrative_tracker.narratives.discovery_store import discover_narratives

WEST = [f"The west organised the riots in city number {i}, the expert said." for i in range(4)]
FUEL = [f"Fuel prices rose again in town number {i}, drivers complained loudly." for i in range(4)]


class Identity:
    def fit_transform(self, vectors):
        return vectors


def _discover(con, embedder, force=False):
    return discover_narratives(con, embedder.name, reducer=Identity(),
                               clusterer=HdbscanClusterer(min_cluster_size=3, min_samples=2), force=force)


def _write(root, day, texts, outlet="Outlet"):
    for i, text in enumerate(texts):
        (root / f"{day}-{i}.txt").write_text(f"{day}\n\nHeadline {day} {i}\n\n{text}\n\nSource: {outlet}\n")


@pytest.fixture
def levels(con, tmp_path, topic_embedder, tiny_codebook):
    root = tmp_path / "in"
    root.mkdir()
    _write(root, "2022-01-05", WEST + FUEL)
    run_stages(con, [root], topic_embedder, tiny_codebook)
    report = _discover(con, topic_embedder)
    return con, root, report


def _discovered(con):
    return {label.split()[0].lower(): (nid, parent, share) for nid, label, parent, share in con.execute(
        "SELECT narrative_id, label, parent_narrative_id, parent_share FROM narratives WHERE origin = 'discovered'").fetchall()}


def test_discovery_clusters_the_paragraphs_the_codebook_claimed_and_records_their_frame(levels):
    con, _, report = levels
    assert report.candidates == 8 and report.narratives == 2
    found = _discovered(con)
    assert found["the"][1:] == ("foreign_hand", 1.0)  # the west claims: inside the foreign-hand frame
    assert found["fuel"][1:] == (None, None)  # outside every frame
    assert report.under_codebook == {"foreign_hand": 1} and report.narratives_outside == 1
    # a west paragraph carries both levels; codebook rows are untouched by discovery
    both = con.execute("SELECT count(*) FROM (SELECT paragraph_id FROM paragraph_narratives GROUP BY ALL "
                       "HAVING count(DISTINCT method) = 2)").fetchone()[0]
    assert both == 4
    assert con.execute("SELECT paragraphs FROM narratives WHERE narrative_id = 'foreign_hand'").fetchone()[0] == 4
    rows = con.execute("SELECT frame_id, level, narrative_id, parent_share FROM narrative_levels ORDER BY ALL").fetchall()
    assert rows == sorted([("csto_justification", "codebook", "csto_justification", None),
                           ("foreign_hand", "codebook", "foreign_hand", None),
                           ("foreign_hand", "discovered", found["the"][0], 1.0),
                           (None, "discovered", found["fuel"][0], None)], key=lambda r: tuple((x is None, x) for x in r))
    for view in ("narrative_daily", "narrative_outlets", "narrative_first_seen", "narrative_languages"):
        parents = dict(con.execute(f"SELECT DISTINCT narrative_id, parent_narrative_id FROM {view}").fetchall())
        assert parents[found["the"][0]] == "foreign_hand" and parents[found["fuel"][0]] is None, view


def test_a_frame_needs_more_than_half_of_the_members_and_follows_the_codebook_without_reclustering(levels, topic_embedder):
    con, _, _ = levels
    west = _discovered(con)["the"][0]
    claimed = [r[0] for r in con.execute("SELECT paragraph_id FROM paragraph_narratives WHERE narrative_id = 'foreign_hand' "
                                         "ORDER BY paragraph_id").fetchall()]
    con.execute("DELETE FROM paragraph_narratives WHERE paragraph_id = $p AND narrative_id = 'foreign_hand'", {"p": claimed[0]})
    assert _discover(con, topic_embedder).skipped  # same texts: no re-clustering, but the parents are recomputed
    assert _discovered(con)["the"] == (west, "foreign_hand", 0.75)
    con.execute("DELETE FROM paragraph_narratives WHERE paragraph_id = $p AND narrative_id = 'foreign_hand'", {"p": claimed[1]})
    _discover(con, topic_embedder)
    assert _discovered(con)["the"] == (west, None, None)  # half is not most


def test_ids_and_frames_carry_over_to_the_next_night_and_decisions_persist(levels, topic_embedder, tiny_codebook):
    from narrative_tracker.narratives.assign import assign_codebook
    from narrative_tracker.narratives.decisions import record_decision

    con, root, _ = levels
    before = _discovered(con)
    record_decision(con, before["the"][0], "rename", "West behind the riots")
    record_decision(con, before["fuel"][0], "reject", note="prices, not a narrative")
    _write(root, "2022-01-06", [t.replace("number", "no.") for t in WEST + FUEL])
    run_stages(con, [root], topic_embedder)
    assign_codebook(con, tiny_codebook, topic_embedder.name, dt.date(2022, 1, 6), dt.date(2022, 1, 6))
    report = _discover(con, topic_embedder)
    assert report.events == {"continued": 2}
    rows = {nid: (label, status, parent) for nid, label, status, parent in con.execute(
        "SELECT narrative_id, label, status, parent_narrative_id FROM narratives WHERE origin = 'discovered'").fetchall()}
    assert rows == {before["the"][0]: ("West behind the riots", "active", "foreign_hand"),
                    before["fuel"][0]: (rows[before["fuel"][0]][0], "rejected", None)}
    assert con.execute("SELECT count(*) FROM paragraph_narratives WHERE narrative_id = $n", {"n": before["the"][0]}).fetchone()[0] == 8
    # merging a claim into its frame moves its paragraphs there; the frame keeps its own rows (no duplicates)
    record_decision(con, before["the"][0], "merge", "foreign_hand")
    _discover(con, topic_embedder, force=True)
    assert con.execute("SELECT count(*), count(DISTINCT paragraph_id) FROM paragraph_narratives "
                       "WHERE narrative_id = 'foreign_hand'").fetchone() == (8, 8)


def test_alerts_and_the_report_show_both_levels(levels):
    from narrative_tracker.narratives.alerts import compute_alerts
    from narrative_tracker.surfaces.report import render_report

    con, _, _ = levels
    west = _discovered(con)["the"][0]
    compute_alerts(con)
    alerts = {nid: (parent, message) for nid, parent, message in con.execute(
        "SELECT narrative_id, parent_narrative_id, message FROM alerts WHERE kind = 'emerging'").fetchall()}
    assert alerts[west][0] == "foreign_hand" and "(under Foreign hand)" in alerts[west][1]
    assert alerts["foreign_hand"][0] is None and "(under" not in alerts["foreign_hand"][1]
    html = render_report(con, dt.date(2022, 1, 5))
    label = con.execute("SELECT label FROM narratives WHERE narrative_id = $n", {"n": west}).fetchone()[0]
    assert 'inside <span class="tag codebook">codebook</span> Foreign hand' in html
    assert f"specific claims inside it: {label} (4)" in html


def test_the_desks_measure_takes_each_articles_most_specific_narrative(levels):
    from narrative_tracker.evaluation.evaluate import discovery_agreement_db

    con, root, _ = levels
    con.execute("UPDATE articles SET tags = CASE WHEN body ILIKE '%west%' THEN ['Coup'] ELSE ['Economy'] END")
    result = discovery_agreement_db(con)
    assert result["most_specific"] | {} == result["discovered"] | {}  # every article has a discovered narrative
    assert (result["most_specific"]["items"], result["most_specific"]["clusters"]) == (8, 2)
    assert result["most_specific"]["nmi"] == 1.0 and result["most_specific"]["purity"] == 1.0
    assert result["codebook"]["outlier_share"] == 0.5 and result["codebook"]["clusters"] == 1
    # a claim discovery left alone falls back to its codebook narrative; an article with neither is an outlier
    con.execute("DELETE FROM paragraph_narratives WHERE method = 'discovered' AND paragraph_id IN "
                "(SELECT paragraph_id FROM paragraphs WHERE text IN ($a, $b))", {"a": WEST[0], "b": FUEL[0]})
    most = discovery_agreement_db(con)["most_specific"]
    assert (most["clusters"], most["outlier_share"]) == (3, 0.125)
    assert discovery_agreement_db(con, since="2022-01-06")["most_specific"]["items"] == 0


def test_a_schema_5_database_gets_the_columns_and_rediscovers_every_paragraph(tmp_path):
    path = tmp_path / "v5.duckdb"
    with db.connection(path) as con:  # a current database taken back to schema 5
        db.set_meta(con, "discovery_fingerprint", "old")
        for table, column in (("narratives", "parent_share"), ("narratives", "parent_narrative_id"), ("alerts", "parent_narrative_id")):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        con.execute("UPDATE pipeline_meta SET value = '5' WHERE key = 'schema_version'")
    with db.connection(path) as con:
        assert {"parent_narrative_id", "parent_share"} <= {r[0] for r in con.execute("DESCRIBE narratives").fetchall()}
        assert "parent_narrative_id" in {r[0] for r in con.execute("DESCRIBE alerts").fetchall()}
        assert con.execute("SELECT count(*) FROM pipeline_meta WHERE key = 'discovery_fingerprint'").fetchone()[0] == 0
        assert con.execute("SELECT value FROM pipeline_meta WHERE key = 'schema_version'").fetchone()[0] == schema.SCHEMA_VERSION == "6"
        con.execute("SELECT frame_id FROM narrative_levels").fetchall()  # the views are back
        db.set_meta(con, "discovery_fingerprint", "new")
    with db.connection(path) as con:  # later opens leave the fingerprint alone
        assert con.execute("SELECT value FROM pipeline_meta WHERE key = 'discovery_fingerprint'").fetchone()[0] == "new"
