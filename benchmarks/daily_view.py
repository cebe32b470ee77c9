"""`narrative_daily` latency over a synthetic database of N paragraph-narrative rows (default 10 million).

Builds the real schema (sql/schema) in a temporary DuckDB file and fills it with generated rows in SQL:
one year of days, 200 outlets, 50 narratives, ~1.25 paragraphs per article-narrative. Times the queries
an analyst runs every morning (median of 5, after one warm-up).

    python benchmarks/daily_view.py --rows 10000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QUERIES = {
    "one narrative, last 30 days": "SELECT * FROM narrative_daily WHERE narrative_id = 'n07' AND day > DATE '2024-12-31' - 30 ORDER BY day",
    "busiest days (whole view)": "SELECT day, narrative_id, paragraphs, share_7d FROM narrative_daily ORDER BY paragraphs DESC LIMIT 10",
    "whole view": "SELECT count(*), sum(paragraphs) FROM narrative_daily",
}


def build(path: Path, rows: int, refresh) -> dict:
    from narrative_tracker import db

    con = db.connect(path)
    articles = max(rows // 10, 1)
    paragraphs = max(int(rows * 0.8), 1)
    began = time.perf_counter()
    con.execute("""
        INSERT INTO articles (article_id, outlet, title, partition_date, published_date, date_source, body, source_path,
                              source_sha256, source_format, ingested_at)
        SELECT 'a' || i, 'outlet ' || (hash(i) % 200), 't', DATE '2024-01-01' + CAST(i % 366 AS INTEGER), NULL,
               'metadata', '', 'synthetic', 'x', 'csv', now()
        FROM range($n) t(i)""", {"n": articles})
    con.execute("""
        INSERT INTO paragraphs SELECT 'p' || i, 'a' || (i % $a), DATE '2024-01-01' + CAST((i % $a) % 366 AS INTEGER),
               0, 0, 'body', 'text', 'h' || i, 10, 'en'
        FROM range($n) t(i)""", {"n": paragraphs, "a": articles})
    con.execute("""
        INSERT INTO narratives (narrative_id, label, origin, paragraphs, status, created_at, updated_at)
        SELECT 'n' || lpad(CAST(i AS VARCHAR), 2, '0'), 'narrative ' || i, CASE WHEN i < 10 THEN 'codebook' ELSE 'discovered' END, 0,
               'active', now(), now() FROM range(50) t(i)""")
    con.execute("""
        INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, method, stance, model, assigned_at)
        SELECT 'p' || (i % $p), 'n' || lpad(CAST((hash(i) % 50) AS VARCHAR), 2, '0'),
               DATE '2024-01-01' + CAST(((i % $p) % $a) % 366 AS INTEGER), 0.5,
               'codebook', ['asserts', 'reports', 'refutes'][1 + CAST(hash(i * 7) % 3 AS INTEGER)], 'm', now()
        FROM range($n) t(i)""", {"n": rows, "p": paragraphs, "a": articles})
    loaded = time.perf_counter() - began
    began = time.perf_counter()
    if refresh:
        refresh(con)
    refreshed = time.perf_counter() - began
    con.close()
    db.publish(path)  # analysts read the published file
    return {"rows": rows, "paragraphs": paragraphs, "articles": articles, "load_seconds": round(loaded, 1),
            "refresh_seconds": round(refreshed, 2)}


def time_queries(path: Path, repeat: int = 5) -> dict:
    from narrative_tracker import db

    out = {}
    with db.connection(path, read_only=True) as con:
        for name, sql in QUERIES.items():
            con.execute(sql).fetchall()
            runs = []
            for _ in range(repeat):
                began = time.perf_counter()
                con.execute(sql).fetchall()
                runs.append(time.perf_counter() - began)
            out[name] = round(statistics.median(runs) * 1000, 1)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    from narrative_tracker.schema import refresh_daily_counts

    with tempfile.TemporaryDirectory(prefix="daily-view-") as tmp:
        path = Path(tmp) / "daily.duckdb"
        built = build(path, args.rows, refresh_daily_counts)
        latency = time_queries(path)
    result = built | {"latency_ms": latency}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
