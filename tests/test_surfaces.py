"""Analyst surfaces: charts, the HTML report, search (keyword + semantic), the sql command."""

import datetime as dt

import pytest
from conftest import SAMPLE, run_stages

from narrative_tracker.surfaces import charts
from narrative_tracker.narratives.alerts import compute_alerts
from narrative_tracker.surfaces.search import (
    SearchFilters,
    build_index,
    keyword_search,
    semantic_search,
)

DAYS = (dt.date(2000, 1, 1), dt.date(2030, 1, 1))


@pytest.fixture
def sample_db(tmp_path, topic_embedder, tiny_codebook):
    from narrative_tracker import db

    path = tmp_path / "s.duckdb"
    with db.connection(path) as con:
        run_stages(con, [SAMPLE], topic_embedder, tiny_codebook)
        compute_alerts(con)
        build_index(con)
    db.publish(path)
    return path


def test_charts_render_to_png(sample_db):
    from narrative_tracker import db

    with db.connection(sample_db, read_only=True) as con:
        for chart in (charts.share_over_time(con), charts.outlet_heatmap(con), charts.alerts_timeline(con)):
            assert charts.png_bytes(chart)[:8] == b"\x89PNG\r\n\x1a\n"
        assert charts.markdown_image(charts.share_over_time(con)).startswith("![chart](data:image/png;base64,")


def test_report_is_self_contained_html(sample_db, tmp_path):
    from narrative_tracker.surfaces.report import write_report

    out = write_report(sample_db, tmp_path / "r.html", dt.date(2022, 1, 10))
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "week ending 2022-01-10" in html
    assert "Foreign hand" in html and "<svg" in html and "Top narratives this week" in html
    assert "http://" not in html.split("<svg")[0] and "<script" not in html  # nothing loaded from outside


def test_keyword_and_semantic_search_with_filters(sample_db, topic_embedder):
    from narrative_tracker import db

    with db.connection(sample_db, read_only=True) as con:
        hits = keyword_search(con, "CSTO troops", SearchFilters(limit=5))
        assert hits.height and all("csto" in t.lower() for t in hits["text"])
        none = keyword_search(con, "CSTO troops", SearchFilters(date_from=dt.date(2022, 1, 9), date_to=dt.date(2022, 1, 9)))
        assert none.height == 0
        outlet = keyword_search(con, "terrorists", SearchFilters(outlet="%Rossa%"))
        assert set(outlet["outlet"]) == {"Rossa Primavera News Agency"}
        similar = semantic_search(con, topic_embedder, "csto", SearchFilters(limit=3))
        assert similar.height == 3 and "CSTO" in similar["text"][0]
        macro = con.execute("LOAD fts; SELECT count(*) FROM search_paragraphs('Kazakhstan', 5)").fetchone()[0]
        assert macro == 5


@pytest.mark.parametrize("evil", ["'; DROP TABLE articles; --", "\\\" OR 1=1 --", "%' OR '1'='1"])
def test_search_inputs_are_parameters(sample_db, topic_embedder, evil):
    from narrative_tracker import db

    with db.connection(sample_db, read_only=True) as con:
        keyword_search(con, evil, SearchFilters(outlet=evil))
        semantic_search(con, topic_embedder, evil, SearchFilters(outlet=evil))
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 5


def test_cli_report_search_sql(sample_db, tmp_path, capsys):
    from pipelines.cli import main

    assert main(["report", "--db", str(sample_db), "--out", str(tmp_path / "x.html")]) == 0
    assert "report written" in capsys.readouterr().out
    assert main(["search", "CSTO", "--mode", "keyword", "--db", str(sample_db), "--limit", "2"]) == 0
    assert "keyword (BM25): 2 results" in capsys.readouterr().out
    assert main(["sql", "SELECT count(*) AS n FROM paragraphs", "--db", str(sample_db)]) == 0
    assert "80" in capsys.readouterr().out
    assert main(["sql", "DROP TABLE articles", "--db", str(sample_db)]) == 1  # read-only


def test_summary_evidence_is_an_asserting_paragraph_never_a_question(tmp_path, topic_embedder, tiny_codebook):
    """The run summary's evidence follows the report's rule: an asserting paragraph beats a higher-scoring question."""
    from conftest import run_stages

    from narrative_tracker import db
    from narrative_tracker.surfaces.summary import database_summary

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(
        "Jan 10, 2022\n\nHeadline here\n\nSo was the West behind the riots, in your view?\n\n"
        "The West organised the riots to weaken the country.\n")
    path = tmp_path / "s.duckdb"
    with db.connection(path) as con:
        run_stages(con, [tmp_path / "in"], topic_embedder, tiny_codebook)
        rows = con.execute("SELECT p.text FROM paragraph_narratives pn JOIN paragraphs p USING (paragraph_id) "
                           "WHERE narrative_id = 'foreign_hand'").fetchall()
        assert len(rows) == 2, rows
        con.execute("UPDATE paragraph_narratives SET stance = 'reports', stance_cue = 'question', score = 0.99 "
                    "WHERE narrative_id = 'foreign_hand' AND paragraph_id IN (SELECT paragraph_id FROM paragraphs WHERE text LIKE '%?')")
        con.execute("UPDATE paragraph_narratives SET stance = 'asserts', score = 0.61 "
                    "WHERE narrative_id = 'foreign_hand' AND paragraph_id IN (SELECT paragraph_id FROM paragraphs WHERE text NOT LIKE '%?')")
    db.publish(path)
    frame = database_summary(path)["narratives"]
    evidence = frame.filter(frame["narrative_id"] == "foreign_hand")["evidence"].item()
    assert evidence == "The West organised the riots to weaken the country."
