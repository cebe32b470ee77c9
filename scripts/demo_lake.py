"""`make demo-lake`: the bundled sample corpus on DuckLake with a PostgreSQL catalog, end to end.

Starts a throwaway PostgreSQL cluster under data/lake/pg (Debian's postgresql package; as root it runs as the
postgres user), creates the catalog database, runs `narratives run --workers 2` with the Parquet files under
data/lake/files, shows a read command and a reader's one-line ATTACH, runs the lake maintenance, and stops the
cluster. Rerunning reuses the cluster folder (the lake persists between runs; `make clean` removes it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from narrative_tracker import pg_cluster  # noqa: E402


def main() -> int:
    lake_dir = ROOT / "data" / "lake"
    with pg_cluster.running(lake_dir / "pg") as pg:
        try:
            pg.createdb("narratives")
        except RuntimeError as exc:
            if "already exists" not in str(exc):
                raise
        url = f"ducklake:postgres:{pg.conninfo('narratives')}"
        os.environ["NARRATIVES_DB"] = url
        os.environ["NARRATIVES_LAKE_DATA_PATH"] = str(lake_dir / "files") + "/"
        from narrative_tracker import db, maintenance, warehouse
        from pipelines.cli import main as cli

        print(f"warehouse: {url}\ndata path: {os.environ['NARRATIVES_LAKE_DATA_PATH']}", flush=True)
        code = cli(["run", "--input", str(ROOT / "data" / "sample"), "--db", url, "--workers", "2"])
        if code:
            return code
        print("\n$ narratives alerts --db '...'", flush=True)
        cli(["alerts", "--db", url])
        wh = warehouse.from_setting(url)
        print("\nRead it while a run writes (DuckDB CLI, Python or the notebook), e.g.:\n"
              f"  duckdb -cmd \"{wh.attach_sql(read_only=True)}\"")
        with db.connection(url) as con:
            print(f"\nlake maintenance: {maintenance.maintain(con).as_metadata()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
