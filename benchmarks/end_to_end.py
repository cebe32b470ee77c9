"""End to end: `narratives run` on the EUvsDisinfo corpus, then the same run again over unchanged input.

Each run is a fresh process (as the nightly schedule or a shell would start it); wall time and its peak
resident memory (the child's ``ru_maxrss``) are recorded. The second run is what a night with nothing new
costs; ``second_vs_first`` is its share of the first.

    python benchmarks/end_to_end.py [--corpus posts.csv] [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from _data import EUVSDISINFO, add_option, require  # noqa: E402

# One run in its own process; prints its wall seconds and the peak RSS of the command (MiB).
_MEASURE = """
import resource, subprocess, sys, time
began = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(code, time.perf_counter() - began, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def measured_run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, check=True,
                         env=os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NARRATIVES_PROGRESS": "0"})
    code, seconds, peak = out.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"narratives run failed ({code}): {out.stderr[-2000:]}")
    return {"seconds": round(float(seconds), 1), "peak_rss_mib": round(float(peak))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--text-column", default="title")
    parser.add_argument("--rows", type=int, default=0, help="only the first N rows (0: all)")
    args = parser.parse_args(argv)
    require(EUVSDISINFO, args.corpus)
    narratives = str(Path(sys.executable).with_name("narratives"))
    with open(args.corpus, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if args.rows:
        rows = rows[: args.rows + 1]
    articles = len(rows) - 1
    with tempfile.TemporaryDirectory(prefix="e2e-") as tmp:
        corpus = Path(tmp) / Path(args.corpus).name
        with open(corpus, "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(rows)
        command = [narratives, "run", "--input", str(corpus), "--text-column", args.text_column, "--db", str(Path(tmp) / "e2e.duckdb")]
        began = time.perf_counter()
        first = measured_run(command)
        second = measured_run(command)
        total = time.perf_counter() - began
    result = {
        "corpus": Path(args.corpus).name,
        "articles": articles,
        "first_run": first | {"articles_per_second": round(articles / first["seconds"], 1)},
        "second_run_unchanged": second,
        "second_vs_first": round(second["seconds"] / first["seconds"], 4),
        "seconds_total": round(total, 1),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
