"""Screenshots of the Dagster UI for docs/ui.md, taken the way a desk walks a backfill, so they stay current.

    .venv/bin/python scripts/ui_screenshots.py            # writes docs/ui/*.png (about 3 minutes)

Starts ``dagster dev`` on loopback (``pipelines/dagster_ui.py``) over a throwaway database of the bundled sample
corpus, ingests it from the UI, reloads the code location (the partitions then start at the sample's first day),
launches the job page's backfill of ``daily_job`` over the sample's days through the UI's own GraphQL call, waits
for it, and photographs the pages a user looks at with headless Chromium from Debian (``apt-get install -y
chromium``): the asset lineage, the job's partitions, the backfill, a day's metadata, the automation sensor that
publishes. Pages are shot at 1200 x 760 with the colour depth reduced by Chromium's own PNG encoder; nothing is
downloaded and the browser profile is a fresh temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.dagster_ui import DagsterUI  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1200,760"]
DAYS = ["2022-01-06", "2022-01-07", "2022-01-08", "2022-01-09", "2022-01-10"]


def shoot(browser: str, url: str, out: Path, wait_ms: int = 20000) -> None:
    """One page, after ``wait_ms`` of (virtual) time for the UI to load its data."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={wait_ms}",
                        f"--screenshot={out}", url], check=True, capture_output=True, timeout=300)
    print(f"  {out.relative_to(REPO)} ({out.stat().st_size // 1024} KiB) <- {url}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "ui", help="folder of the PNGs (default docs/ui)")
    parser.add_argument("--browser", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="narratives-ui-") as tmp:
        root = Path(tmp)
        env = {"NARRATIVES_DB": str(root / "desk.duckdb"), "NARRATIVES_INPUT": str(REPO / "data" / "sample"),
               "HF_HUB_OFFLINE": "1", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}
        with DagsterUI(root / "dagster_home", env) as ui:
            print(f"dagster dev at {ui.url}")
            assert ui.wait_run(ui.launch_job("ingest_job"))["status"] == "SUCCESS"
            ui.reload()
            loc = quote(f"{ui.repository}@{ui.location}")
            shoot(args.browser, f"{ui.url}/asset-groups", args.out / "1-lineage.png")
            shoot(args.browser, f"{ui.url}/locations/{loc}/jobs/daily_job/partitions", args.out / "2-job-partitions.png")
            assets = ["codebook", "paragraphs", "paragraph_embeddings", "codebook_assignments", "discovered_narratives",
                      "narrative_trends", "alerts", "search_index", "published_database"]
            backfill = ui.launch_backfill(assets, DAYS, job="daily_job")  # the job page's "Launch backfill"
            done = ui.wait_backfill(backfill)
            print(f"backfill {backfill}: {done['status']}, {len(done['runs'])} run(s)")
            shoot(args.browser, f"{ui.url}/runs/b/{backfill}?tab=partitions", args.out / "3-backfill.png")
            shoot(args.browser, f"{ui.url}/assets/paragraphs?view=partitions&partition=2022-01-08",
                  args.out / "4-paragraphs-day.png")
            shoot(args.browser, f"{ui.url}/assets/codebook_assignments?view=partitions&partition=2022-01-08",
                  args.out / "5-assignments-day.png")
            time.sleep(20)  # the report follows the publish (publish_after_changes)
            shoot(args.browser, f"{ui.url}/locations/{loc}/sensors/publish_after_changes",
                  args.out / "6-publish-sensor.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
