"""Screenshots of the Dagster UI for docs/ui.md, taken the way a desk walks a backfill, so they stay current.

    .venv/bin/python scripts/ui_screenshots.py            # writes docs/ui/*.png (about 3 minutes)

Starts ``dagster dev`` on loopback (``pipelines/dagster_ui.py``) over a throwaway database of the bundled sample
corpus, ingests it from the UI, reloads the code location (the partitions then start at the sample's first day),
launches the job page's backfill of ``daily_job`` over the sample's days through the UI's own GraphQL call, waits
for it, and photographs the pages a user looks at with headless Chromium from Debian (``apt-get install -y
chromium``), driven over its DevTools protocol: the asset lineage, the job's launch dialog, the backfill, a day's
metadata, the report that follows the publish. Pages are 1200 x 760; nothing is downloaded and the browser profile
is a fresh temporary folder.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.dagster_ui import DagsterUI  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--remote-debugging-port=0", "--window-size=1200,760"]
DAYS = ["2022-01-06", "2022-01-07", "2022-01-08", "2022-01-09", "2022-01-10"]
SET_NUX_SEEN = "mutation { setNuxSeen }"  # what the first-visit dialog's "Skip" stores on the server


class Browser:
    """Headless Chromium driven over the DevTools protocol (``websockets``, which dagster-webserver's uvicorn
    brings): open a page, click a button by its text, save a PNG. A fresh profile in a temporary folder."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        self.process = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30).read())
        page = next(t for t in targets if t["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=2**26)
        self.ids = 0
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1200, height=760, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params) -> dict:
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str, settle: float = 8.0) -> None:
        self.call("Page.navigate", url=url)
        time.sleep(settle)  # the UI loads its data after the page itself

    def click(self, text: str, settle: float = 5.0, wait: float = 120.0, tags: str = "button") -> None:
        """Click the first element of ``tags`` (a CSS selector) whose text starts with ``text``, once there is one."""
        deadline = time.monotonic() + wait
        while True:
            found = self.call("Runtime.evaluate", returnByValue=True, expression=(
                f"(() => {{ const b = [...document.querySelectorAll({json.dumps(tags)})].find(e => e.innerText && "
                f"e.innerText.trim().startsWith({json.dumps(text)})); if (!b) return false; b.click(); return true; }})()"))
            if found.get("result", {}).get("value"):
                break
            if time.monotonic() > deadline:
                buttons = self.call("Runtime.evaluate", returnByValue=True, expression=(
                    "[...document.querySelectorAll('button')].map(e => e.innerText.trim()).filter(Boolean)"))
                raise RuntimeError(f"no button {text!r} on the page; buttons: {buttons.get('result', {}).get('value')}")
            time.sleep(1.0)
        time.sleep(settle)

    def shoot(self, out: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        out.write_bytes(base64.b64decode(data))
        print(f"  {out.relative_to(REPO)} ({out.stat().st_size // 1024} KiB)")

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        self.profile.cleanup()


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
            ui.graphql(SET_NUX_SEEN)
            loc = quote(f"{ui.repository}@{ui.location}", safe="@:")
            browser = Browser(args.browser)
            try:
                browser.open(f"{ui.url}/assets/codebook_assignments?view=lineage&lineageDepth=4", settle=12)
                browser.shoot(args.out / "1-lineage.png")
                browser.open(f"{ui.url}/locations/{loc}/jobs/daily_job", settle=15)
                browser.click("Materialize all")  # the launch dialog: partitions, backfill policy
                browser.click("Show all partitions", tags="a, button, span")  # every day from the database's first
                browser.shoot(args.out / "2-launch-dialog.png")
                assets = ["codebook", "paragraphs", "paragraph_embeddings", "codebook_assignments",
                          "discovered_narratives", "narrative_trends", "alerts", "search_index", "published_database"]
                backfill = ui.launch_backfill(assets, DAYS, job="daily_job")  # what its "Launch backfill" sends
                done = ui.wait_backfill(backfill)
                print(f"backfill {backfill}: {done['status']}, {len(done['runs'])} run(s)")
                browser.open(f"{ui.url}/runs/b/{backfill}?tab=runs")
                browser.shoot(args.out / "3-backfill.png")
                browser.open(f"{ui.url}/assets/paragraphs?view=partitions&partition=2022-01-08")
                browser.shoot(args.out / "4-paragraphs-day.png")
                browser.open(f"{ui.url}/assets/codebook_assignments?view=partitions&partition=2022-01-08")
                browser.shoot(args.out / "5-assignments-day.png")
                time.sleep(30)  # publish_after_changes writes the report after the publish
                browser.open(f"{ui.url}/assets/daily_report")
                browser.shoot(args.out / "6-daily-report.png")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
