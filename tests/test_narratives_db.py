"""Codebook detection, discovery and the trend views on a real DuckDB file (fake embedder with meaning)."""

import datetime as dt

import pytest
from conftest import run_stages

from narrative_tracker.embeddings.embed import embed_partitions
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.narratives.assign import apply_codebook, assign_codebook
from narrative_tracker.narratives.discovery_store import discover_narratives
from narrative_tracker.paragraphs.split import build_paragraphs

ALL = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))


def _article(root, name, day, outlet, paragraphs):
    body = "\n\n".join(paragraphs)
    (root / name).write_text(f"{day}\n\nHeadline {name}\n\n{body}\n\nSource: {outlet}\n")


@pytest.fixture
def loaded(con, tmp_path, topic_embedder, tiny_codebook):
    root = tmp_path / "in"
    root.mkdir()
    _article(root, "a.txt", "Jan 5, 2022", "Outlet One", [
        "The west organised the riots, said the expert on air.",
        "Fuel prices doubled in the north of the country overnight, drivers said.",
    ])
    _article(root, "b.txt", "Jan 5, 2022", "Outlet Two", [
        "The CSTO sent troops at the request of the president, and it was right.",
        "Football results from the weekend league were announced on Monday.",
    ])
    _article(root, "c.txt", "Jan 7, 2022", "Outlet Two", [
        "Again the west is behind the unrest, writes the columnist in his piece.",
    ])
    run_stages(con, [root], topic_embedder, tiny_codebook)
    return con


def test_codebook_assignments_with_evidence(loaded):
    rows = loaded.execute(
        "SELECT pn.narrative_id, p.text, pn.evidence, pn.method, pn.score >= n.threshold FROM paragraph_narratives pn "
        "JOIN paragraphs p USING (paragraph_id) JOIN narratives n USING (narrative_id) ORDER BY p.partition_date, p.text"
    ).fetchall()
    assert [(r[0], r[1][:12]) for r in rows] == [
        ("csto_justification", "The CSTO sen"),
        ("foreign_hand", "The west org"),
        ("foreign_hand", "Again the we"),
    ]
    assert rows[0][2] == "The CSTO deployment was right." and all(r[3] == "codebook" and r[4] for r in rows)


def test_reassigning_a_day_replaces_its_rows(loaded, tiny_codebook, topic_embedder):
    before = loaded.execute("SELECT count(*) FROM paragraph_narratives").fetchone()[0]
    assign_codebook(loaded, tiny_codebook, topic_embedder.name, dt.date(2022, 1, 5), dt.date(2022, 1, 5))
    assign_codebook(loaded, tiny_codebook, topic_embedder.name, *ALL)
    assert loaded.execute("SELECT count(*) FROM paragraph_narratives").fetchone()[0] == before == 3


def test_removed_codebook_narrative_goes_with_its_assignments(loaded, tmp_path, topic_embedder):
    from narrative_tracker.narratives.codebook import load_codebook

    path = tmp_path / "smaller.yaml"
    path.write_text("narratives:\n  - id: foreign_hand\n    examples: ['The West organised it.']\n")
    report = apply_codebook(loaded, load_codebook(path), topic_embedder)
    assert report.removed == ["csto_justification"]
    assert loaded.execute("SELECT count(*) FROM paragraph_narratives WHERE narrative_id = 'csto_justification'").fetchone()[0] == 0
    assert loaded.execute("SELECT count(*) FROM codebook_examples WHERE narrative_id = 'csto_justification'").fetchone()[0] == 0


def test_narrative_daily_counts_share_and_rolling_mean(loaded):
    rows = loaded.execute(
        "SELECT day, paragraphs, articles, outlets, day_paragraphs, share, paragraphs_7d_avg "
        "FROM narrative_daily WHERE narrative_id = 'foreign_hand' ORDER BY day"
    ).fetchall()
    assert [r[0] for r in rows] == [dt.date(2022, 1, 5), dt.date(2022, 1, 6), dt.date(2022, 1, 7)]  # empty day included
    assert rows[0][1:6] == (1, 1, 1, 4, 0.25)
    assert rows[1][1] == 0 and rows[1][4] == 0 and rows[1][5] is None
    assert rows[2][1:6] == (1, 1, 1, 1, 1.0)
    assert rows[2][6] == pytest.approx(2 / 3)


def test_narrative_outlets_and_first_seen(loaded):
    outlets = loaded.execute(
        "SELECT outlet, paragraphs, first_seen, last_seen FROM narrative_outlets WHERE narrative_id = 'foreign_hand' ORDER BY outlet"
    ).fetchall()
    assert outlets == [("Outlet One", 1, dt.date(2022, 1, 5), dt.date(2022, 1, 5)), ("Outlet Two", 1, dt.date(2022, 1, 7), dt.date(2022, 1, 7))]
    first = loaded.execute(
        "SELECT first_seen, first_outlet, first_title, articles, outlets FROM narrative_first_seen WHERE narrative_id = 'foreign_hand'"
    ).fetchone()
    assert first == (dt.date(2022, 1, 5), "Outlet One", "Headline a.txt", 2, 2)


def test_discovery_replaces_discovered_narratives_and_leaves_codebook_ones(loaded, topic_embedder, tmp_path):
    from narrative_tracker.narratives.discover import HdbscanClusterer

    class Identity:
        def fit_transform(self, vectors):
            return vectors

    report = discover_narratives(loaded, topic_embedder.name, reducer=Identity(), clusterer=HdbscanClusterer(min_cluster_size=2, min_samples=1))
    assert report.candidates == 5  # every paragraph text: those the codebook claimed too (two levels)
    again = discover_narratives(loaded, topic_embedder.name, reducer=Identity(), clusterer=HdbscanClusterer(min_cluster_size=2, min_samples=1))
    assert again.narratives == report.narratives
    codebook_rows = loaded.execute("SELECT count(*) FROM paragraph_narratives WHERE method = 'codebook'").fetchone()[0]
    assert codebook_rows == 3
    sizes = loaded.execute("SELECT narrative_id, paragraphs FROM narratives WHERE origin = 'codebook' ORDER BY 1").fetchall()
    assert sizes == [("csto_justification", 1), ("foreign_hand", 2)]


def test_syndication_and_amplification(loaded, tmp_path, topic_embedder, tiny_codebook):
    """Outlet Three copies Outlet One's paragraph two days later (punctuation changed): a copy, lag 2."""
    root = tmp_path / "copy"
    root.mkdir()
    _article(root, "d.txt", "Jan 7, 2022", "Outlet Three", ["The WEST organised the riots -- said the expert on air!"])
    ingest_paths(loaded, [root])
    build_paragraphs(loaded, *ALL)
    embed_partitions(loaded, topic_embedder, *ALL)
    assign_codebook(loaded, tiny_codebook, topic_embedder.name, *ALL)
    syndicated = loaded.execute("SELECT copies, outlets, first_outlet, first_day FROM paragraph_syndication").fetchall()
    assert syndicated == [(2, 2, "Outlet One", dt.date(2022, 1, 5))]
    rows = loaded.execute(
        "SELECT outlet, lag_days, originator, paragraphs, copied_paragraphs FROM narrative_amplification "
        "WHERE narrative_id = 'foreign_hand' ORDER BY outlet"
    ).fetchall()
    assert rows == [("Outlet One", 0, True, 1, 0), ("Outlet Three", 2, False, 1, 1), ("Outlet Two", 2, False, 1, 0)]


def test_spike_alert(con, tmp_path, topic_embedder, tiny_codebook):
    from narrative_tracker.narratives.alerts import compute_alerts

    root = tmp_path / "days"
    root.mkdir()
    for day in range(1, 21):  # 20 quiet days: one fuel paragraph a day; the narrative shows up once, on day 5
        extra = ["The west is meddling again, one columnist wrote."] if day == 5 else []
        _article(root, f"q{day}.txt", f"Jan {day}, 2022", "Outlet", [f"Fuel prices went up again on day {day}, drivers said."] + extra)
    _article(root, "spike.txt", "Jan 21, 2022", "Outlet", [f"The west organised the riots, claim number {i}." for i in range(4)])
    run_stages(con, [root], topic_embedder, tiny_codebook)
    assert compute_alerts(con) >= 1
    spike = con.execute("SELECT day, narrative_id, paragraphs, round(share, 2) FROM alerts WHERE kind = 'spike'").fetchall()
    assert spike == [(dt.date(2022, 1, 21), "foreign_hand", 4, 1.0)]
    # more than 7 days after its first appearance (day 5), so it is a spike, not an emerging narrative
    assert con.execute("SELECT count(*) FROM alerts WHERE kind = 'emerging'").fetchone()[0] == 0


def test_first_appearance_is_emerging_not_a_spike(con, tmp_path, topic_embedder, tiny_codebook):
    from narrative_tracker.narratives.alerts import compute_alerts

    root = tmp_path / "days"
    root.mkdir()
    for day in range(1, 11):
        _article(root, f"q{day}.txt", f"Jan {day}, 2022", "Outlet", [f"Fuel prices went up again on day {day}, drivers said."])
    _article(root, "new.txt", "Jan 11, 2022", "Outlet", [f"The west organised the riots, claim number {i}." for i in range(3)])
    run_stages(con, [root], topic_embedder, tiny_codebook)
    compute_alerts(con)
    assert con.execute("SELECT day, narrative_id, kind FROM alerts").fetchall() == [(dt.date(2022, 1, 11), "foreign_hand", "emerging")]
