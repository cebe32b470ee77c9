"""A run processes the spans of days that hold articles, not the empty days between them (pipelines/parallel.py)."""

import datetime as dt

import numpy as np
import pytest

from pipelines.parallel import SPAN_GAP_DAYS, active_spans

D = dt.date(2020, 1, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_days_join_across_short_gaps_and_split_at_long_ones():
    assert active_spans([]) == []
    assert active_spans([day(3)]) == [(day(3), day(3))]
    # SPAN_GAP_DAYS empty days between two days stay one span; one more makes two
    gap = SPAN_GAP_DAYS
    assert active_spans([day(0), day(gap + 1)]) == [(day(0), day(gap + 1))]
    assert active_spans([day(0), day(gap + 2)]) == [(day(0), day(0)), (day(gap + 2), day(gap + 2))]
    assert active_spans([day(0), day(31)], max_gap=30) == [(day(0), day(31))]
    assert active_spans([day(5), day(0), day(1), day(5)], max_gap=0) == [(day(0), day(1)), (day(5), day(5))]


def test_at_most_max_spans_the_shortest_gaps_joined_first():
    days = [day(0), day(100), day(150), day(400)]  # gaps of 99, 49 and 249 empty days
    assert active_spans(days, max_gap=10, max_spans=4) == [(day(0), day(0)), (day(100), day(100)), (day(150), day(150)), (day(400), day(400))]
    assert active_spans(days, max_gap=10, max_spans=3) == [(day(0), day(0)), (day(100), day(150)), (day(400), day(400))]
    assert active_spans(days, max_gap=10, max_spans=1) == [(day(0), day(400))]


@pytest.mark.slow
def test_a_run_over_two_distant_days_skips_the_days_between(tmp_path, capsys):
    """The real CLI, model and Dagster: articles on two days a year apart are processed as two spans, and the
    tables hold what one run over the whole range gives (the same paragraphs, assignments and daily counts)."""
    import duckdb

    from pipelines.cli import main

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "claims.csv").write_text(
        "date,outlet,title,text\n"
        "2019-03-01,Outlet A,Foreign hand,The protests were organised by foreign intelligence services to weaken the country.\n"
        "2019-03-01,Outlet B,Weather,Rain is expected in the capital on Sunday with temperatures near ten degrees.\n"
        "2020-03-02,Outlet A,Terrorists,Militants trained abroad infiltrated the crowds and attacked police stations.\n"
        "2020-03-02,Outlet C,Football,The national team won the friendly match two to one after extra time.\n",
        encoding="utf-8",
    )
    db = tmp_path / "n.duckdb"
    assert main(["run", "--input", str(inbox), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "2 spans of days with articles (2019-03-01..2019-03-01, 2020-03-02..2020-03-02" in out
    assert "366 empty days between them are skipped" in out and "every_paragraph_embedded passed" in out

    def tables(path):
        """Paragraphs, embeddings to bf16 precision (a vector differs in its last bits when the texts batched with it
        differ: docs/performance.md), codebook assignments with their stance, and the daily counts they give."""
        with duckdb.connect(str(path), read_only=True) as con:
            rows = [con.execute(q).fetchall() for q in (
                "SELECT paragraph_id, partition_date, text FROM paragraphs ORDER BY ALL",
                "SELECT text_hash, embedding FROM paragraph_embeddings ORDER BY text_hash",
                "SELECT paragraph_id, narrative_id, stance FROM paragraph_narratives WHERE method = 'codebook' ORDER BY ALL",
                "SELECT c.* FROM narrative_daily_counts c JOIN narratives n USING (narrative_id) WHERE n.origin = 'codebook' ORDER BY ALL",
            )]
        assert rows[0] and rows[2], "the claims give paragraphs and codebook assignments to compare"
        hashes = [h for h, _ in rows[1]]
        vectors = np.array([v for _, v in rows[1]], dtype=np.float32)
        return [rows[0], hashes, rows[2], rows[3]], vectors

    one_range = tmp_path / "one.duckdb"
    import pipelines.parallel as parallel

    gap = parallel.SPAN_GAP_DAYS
    try:
        parallel.SPAN_GAP_DAYS = 1000  # the same input as one range of 368 daily partitions
        assert main(["run", "--input", str(inbox), "--db", str(one_range)]) == 0
    finally:
        parallel.SPAN_GAP_DAYS = gap
    assert "(368 daily partitions, one run)" in capsys.readouterr().out
    (spans, spans_vectors), (one, one_vectors) = tables(db), tables(one_range)
    assert spans == one
    assert np.allclose(spans_vectors, one_vectors, atol=5e-3)
