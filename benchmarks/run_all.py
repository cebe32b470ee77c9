"""`make bench`: every benchmark of issue #8 in one run; writes benchmarks/results.json and benchmarks/results.md.

Figures are measured here and now, never copied: each ratio is against a baseline measured in the same run.
Targets are reported next to the figures (``met`` true/false) and never asserted.

    python benchmarks/run_all.py            # everything (about 8 minutes on 2 cores)
    python benchmarks/run_all.py --quick    # smaller sizes, for a smoke run (about 3 minutes)
    python benchmarks/run_all.py --semeval DIR --corpus posts.csv   # datasets elsewhere than ../shared
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import daily_view  # noqa: E402
import discovery_scale  # noqa: E402
import embed_speed  # noqa: E402
import end_to_end  # noqa: E402
import pair_speed  # noqa: E402
from _data import EUVSDISINFO, SEMEVAL, add_option, require  # noqa: E402


def machine() -> dict:
    cpu = "unknown"
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    import duckdb
    import torch

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "amx_bf16": "amx_bf16" in flags, "avx512_bf16": "avx512_bf16" in flags,
            "python": platform.python_version(), "torch": torch.__version__, "duckdb": duckdb.__version__}


def markdown(results: dict) -> str:
    e, x, d, v = results["embedding"], results["end_to_end"], results["discovery"], results["narrative_daily"]
    t = results["targets"]
    m = results["machine"]
    lines = [
        f"# Benchmarks — {results['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, AMX bf16 {m['amx_bf16']}; torch {m['torch']}, duckdb {m['duckdb']}.",
        "",
        "| benchmark | measured | target | met |",
        "| --- | --- | --- | --- |",
        f"| embedding, {e['paragraphs']} news paragraphs ({e['mean_tokens']} tokens avg) | project {e['project_per_second']}/s "
        f"({e['project_precision']}) vs plain `encode` {e['baseline_per_second']}/s: **{e['embed_speedup']}x**; "
        f"cosine to fp32 mean {e['cosine_to_fp32_mean']}, min {e['cosine_to_fp32_min']}; test macro-F1 "
        f"{e['test_macro_f1_project']} vs {e['test_macro_f1_fp32']} in fp32 ({e['labelled_paragraphs_with_other_labels']} of "
        f"{e['labelled_paragraphs']} labelled paragraphs get other labels) | >= 4x, cosine >= 0.99, F1 unchanged | "
        f"{t['embed_speedup']['met']} / {t['embed_cosine']['met']} / {t['embed_f1']['met']} |",
        f"| `narratives run`, {x['corpus']} ({x['articles']} articles), first run | {x['first_run']['seconds']} s, "
        f"{x['first_run']['articles_per_second']} articles/s, peak RSS {x['first_run']['peak_rss_mib']} MiB | | |",
        f"| same run again, unchanged input | {x['second_run_unchanged']['seconds']} s = **{x['second_vs_first']:.1%}** of the first | <= 5% | {t['second_run']['met']} |",
    ]
    p = results["pair_model"]
    ps, pr = p["speed"], p["sample_run"]
    bf16 = (f"bf16 {ps['bf16']['pairs_per_second']}/s vs fp32 {ps['fp32']['pairs_per_second']}/s (**{ps['bf16_speedup']}x**, "
            f"same label {ps['bf16_same_label']:.1%})" if "bf16" in ps else f"fp32 {ps['fp32']['pairs_per_second']}/s")
    lines += [
        f"| pair model ({ps['pair_model']}), {ps['pairs']} (claim, paragraph) pairs | {bf16} | | |",
        f"| `narratives run` on the sample: pair model vs `--stance-model none` | {pr['pair_model']['seconds']} s vs "
        f"{pr['detector_only']['seconds']} s: the pair model is **{pr['pair_share_of_run']:.0%}** of the run | | |",
    ]
    for row in d["sizes"]:
        growth = f", x{row['growth_vs_previous']} vs previous size" if "growth_vs_previous" in row else ""
        lines.append(
            f"| discovery, {row['paragraphs']:,} synthetic paragraphs | {row['seconds']} s{growth}; {row['clusters']} clusters, "
            f"NMI {row['nmi_on_narrative_paragraphs']} | {'<= 600 s' if row['paragraphs'] >= 1_000_000 else ''} | "
            f"{t['discovery_1m']['met'] if row['paragraphs'] >= 1_000_000 else ''} |"
        )
    for name, ms in v["latency_ms"].items():
        lines.append(f"| `narrative_daily`, {v['rows']:,} assignment rows: {name} | {ms} ms | <= 200 ms | {ms <= 200} |")
    lines.append(f"| `narrative_daily_counts` full rebuild at {v['rows']:,} rows | {v['refresh_seconds']} s | | |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run, not the figures to publish")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    add_option(parser, SEMEVAL)
    add_option(parser, EUVSDISINFO)
    args = parser.parse_args()
    semeval, corpus = require(SEMEVAL, args.semeval), require(EUVSDISINFO, args.corpus)  # both before anything runs
    began = time.perf_counter()
    results: dict = {"date": dt.date.today().isoformat(), "quick": args.quick, "machine": machine()}
    print("== embedding", flush=True)
    results["embedding"] = embed_speed.main(["--paragraphs", "500" if args.quick else "2000", "--semeval", str(semeval)])
    print("== end to end", flush=True)
    results["end_to_end"] = end_to_end.main(["--corpus", str(corpus), *(["--rows", "1000"] if args.quick else [])])
    print("== pair model", flush=True)
    results["pair_model"] = pair_speed.main(["--pairs", "200" if args.quick else "600"])
    print("== discovery", flush=True)
    sizes = ["10000", "100000"] if args.quick else ["10000", "100000", "1000000"]
    results["discovery"] = discovery_scale.main(["--sizes", *sizes])
    print("== narrative_daily", flush=True)
    results["narrative_daily"] = daily_view.main(["--rows", "1000000" if args.quick else "10000000"])
    e, x, d, v = results["embedding"], results["end_to_end"], results["discovery"], results["narrative_daily"]
    largest = d["sizes"][-1]
    results["targets"] = {
        "embed_speedup": {"target": 4.0, "value": e["embed_speedup"], "met": e["embed_speedup"] >= 4.0},
        "embed_cosine": {"target": 0.99, "value": e["cosine_to_fp32_mean"], "met": e["cosine_to_fp32_mean"] >= 0.99},
        "embed_f1": {"target": e["test_macro_f1_fp32"], "value": e["test_macro_f1_project"],
                     "met": e["test_macro_f1_project"] >= e["test_macro_f1_fp32"]},
        "second_run": {"target": 0.05, "value": x["second_vs_first"], "met": x["second_vs_first"] <= 0.05},
        "discovery_1m": {"target": 600, "paragraphs": largest["paragraphs"], "value": largest["seconds"],
                         "met": largest["paragraphs"] >= 1_000_000 and largest["seconds"] <= 600},
        "narrative_daily_ms": {"target": 200, "value": max(v["latency_ms"].values()), "met": max(v["latency_ms"].values()) <= 200},
    }
    results["seconds_total"] = round(time.perf_counter() - began, 1)
    out = Path(args.out)
    out.write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
