"""The pair model measured as a user runs it: every figure comes from the `narratives` command line.

Writes ``benchmarks/results/pair_quality.json`` (sections measured in this run replace the file's; the others keep
their own dates). Each section runs the shipped pair model and, in the same run, ``--stance-model none`` (the
bi-encoder detector deciding alone, with the frozen-feature stance model: the behaviour before the pair model):

* ``fnc``: ``narratives evaluate --stance-pairs FNC --json`` — the FNC-1 claims the training kept aside (a fifth of
  the claims of ../shared's FNC folder, never trained on): F1 per class, macro-F1 over the four classes;
* ``labelled``: ``narratives evaluate --json`` — the labelled paragraphs, per part: *mentions* macro-F1 (the
  paragraph carries the narrative) and *asserts* macro-F1 (it pushes it), stance accuracy. Tune-part figures are
  in-sample (the pair model and heads train on it); the test parts are not;
* ``sample_run``: ``narratives run --input data/sample`` into a scratch database, its ``paragraph_narratives``
  compared with the labelled rows of the five sample articles (test: articles 002-004; tune: 000-001);
* ``euvsdisinfo``: ``narratives run --input posts.csv --text-column title`` (10,892 claims of 2015-2021, none about
  the January 2022 events of the codebook): wall time of both runs (the ratio is the pair model's cost), assignments
  per narrative and stance, and how many claims got the event-bound ``csto_justification``;
* ``day_one``: three narratives a desk could add on its first day (a description and five example statements written
  for this benchmark from general knowledge, not from any EUvsDisinfo claim) appended to the bundled codebook;
  ``narratives run`` over every claim carrying the matching EUvsDisinfo tag plus 3,000 random other claims; each
  narrative's precision / recall against its tag.

    python benchmarks/pair_quality.py [--fnc DIR] [--corpus posts.csv] [--only fnc,labelled,...] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _data import EUVSDISINFO, FNC1, add_option, require  # noqa: E402

SECTIONS = ("fnc", "labelled", "sample_run", "euvsdisinfo", "day_one")
MODES = {"pair": "", "none": "none"}  # the shipped pair model / the detector alone
TARGETS = {"fnc_macro_f1": 0.65, "fnc_refutes_f1": 0.50, "asserts_macro_f1": 0.70, "mentions_macro_f1": 0.80,
           "day_one_precision": 0.70, "day_one_recall": 0.70}

DAY_ONE = [
    {"id": "mh17_not_russia", "tag": "MH17", "label": "MH17: Russia is falsely blamed",
     "description": "Malaysia Airlines flight MH17 was not shot down by Russia or its forces: Ukraine, the West or the "
                    "investigators are responsible or are covering up the truth, and the investigation is biased against Moscow.",
     "examples": ["Kyiv's own air defence brought down the Malaysian Boeing over Donbas.",
                  "The Dutch-led inquiry into the airliner crash was rigged from the start to blame Moscow.",
                  "Washington hides its satellite images because they would show who really downed the plane.",
                  "A Ukrainian fighter jet was seen close to the passenger plane just before it fell.",
                  "The Buk missile that hit the Boeing belonged to the Ukrainian army, not to Russia."]},
    {"id": "white_helmets_staged", "tag": "White Helmets", "label": "White Helmets stage attacks",
     "description": "The Syrian civil defence group White Helmets are not rescuers but a Western-funded propaganda "
                    "outfit linked to terrorists that stages or fakes chemical attacks and rescue videos.",
     "examples": ["The so-called rescuers filmed a fake gas attack with actors to justify Western air strikes.",
                  "These volunteers are funded by London and work hand in hand with jihadist groups.",
                  "Their videos of children pulled from rubble are staged productions for Western television.",
                  "The civil defence group prepares provocations with toxic substances on orders from abroad.",
                  "Western governments evacuated the rescuers because they know too much about the staged attacks."]},
    {"id": "skripal_staged", "tag": "Sergei Skripal", "label": "Skripal poisoning was staged",
     "description": "The poisoning of Sergei and Yulia Skripal in Salisbury was not carried out by Russia: it was staged "
                    "or carried out by British services, and the accusations against Moscow are a provocation.",
     "examples": ["London staged the Salisbury poisoning to justify new sanctions against Moscow.",
                  "The nerve agent story is full of holes; British intelligence itself is behind the incident.",
                  "No evidence links Russia to the poisoning of the former spy and his daughter.",
                  "The Salisbury case is a provocation organised by the British secret services.",
                  "Theresa May invented the Russian trace in the attack on the double agent to distract from Brexit."]},
]


def cli(*args: str, timeout: int = 7200, env: dict | None = None) -> tuple[float, str]:
    """Run ``narratives ARGS``; (seconds, stdout). Fails loudly with the command's stderr."""
    exe = Path(sys.executable).with_name("narratives")
    started = time.monotonic()
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NARRATIVES_RUN_HISTORY": "none", **(env or {})}, cwd=REPO)
    seconds = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"narratives {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def sql(db: Path, query: str) -> list[dict]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rel = con.sql(query)
        return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "support": tp + fn, "predicted": tp + fp}


# --- sections ------------------------------------------------------------------------------------------------------
def section_fnc(fnc: Path) -> dict:
    out = {}
    for mode, setting in MODES.items():
        _, text = cli("evaluate", "--stance-pairs", str(fnc), "--json", "--stance-model", setting or "")
        result = json.loads(text)
        out[mode] = {k: result[k] for k in ("pairs", "macro_f1", "accuracy", "fnc_score", "per_class", "mode") if k in result}
        if "pairs_per_second" in result:
            out[mode]["pairs_per_second"] = result["pairs_per_second"]
    out["note"] = ("pair: the claims kept aside in training; none: the frozen-feature model's 5-fold cross-validation "
                   "by claim over the whole folder (it was trained on all of it)")
    return out


def section_labelled() -> dict:
    out = {}
    for mode, setting in MODES.items():
        _, text = cli("evaluate", "--json", "--stance-model", setting)
        result = json.loads(text)
        out[mode] = {part: {"mentions_macro_f1": t["macro_f1"], "asserts_macro_f1": t["asserts"]["macro_f1"],
                            "stance_accuracy": t["stance_accuracy"], "paragraphs": t["paragraphs"],
                            "asserts": {n: t["asserts"][n] for n in result["narratives"]},
                            "mentions": {n: t[n] for n in result["narratives"]}}
                     for part, t in result["parts"].items()}
        out[mode]["decided_by"] = result.get("pair_model") or "detector"
    return out


def _labelled_sample_rows() -> list[dict]:
    with open(REPO / "tests" / "labelled" / "paragraphs.csv", newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == "sample"]
    for r in rows:
        nids = [n for n in r["narratives"].split(";") if n]
        stance = r["stance"]
        r["gold"] = ({n: dict(p.split(":") for p in stance.split(";"))[n] for n in nids} if ":" in stance
                     else {n: stance for n in nids})
        r["article"] = r["source"].split("/")[-1].split("#")[0]
    return rows


def score_against_rows(rows: list[dict], found: dict[str, dict[str, str]], narratives: list[str]) -> dict:
    """Per part (tune: articles 000-001, test: 002-004): mentions / asserts P/R/F1 per narrative and macro-F1."""
    out = {}
    for part, articles in (("tune", {"000", "001"}), ("test", {"002", "003", "004"})):
        chosen = [r for r in rows if r["article"] in articles]
        table = {"paragraphs": len(chosen), "matched": sum(r["text"] in found for r in chosen)}
        for kind in ("mentions", "asserts"):
            per = {}
            for n in narratives:
                tp = fp = fn = 0
                for r in chosen:
                    g = r["gold"].get(n)
                    p = found.get(r["text"], {}).get(n)
                    if kind == "asserts":
                        g, p = g == "asserts", p == "asserts"
                    tp += bool(g and p)
                    fp += bool(p and not g)
                    fn += bool(g and not p)
                per[n] = prf(tp, fp, fn)
            table[kind] = per
            table[f"{kind}_macro_f1"] = round(sum(v["f1"] for v in per.values()) / len(per), 3)
        out[part] = table
    return out


def section_sample_run(tmp: Path) -> dict:
    rows = _labelled_sample_rows()
    narratives = ["foreign_hand", "isis_infiltration", "csto_justification"]
    out = {}
    for mode, setting in MODES.items():
        db = tmp / f"sample-{mode}.duckdb"
        seconds, _ = cli("run", "--input", "data/sample", "--db", str(db), "--stance-model", setting)
        found: dict[str, dict[str, str]] = {}
        for r in sql(db, "SELECT p.text, pn.narrative_id, pn.stance FROM paragraph_narratives pn JOIN paragraphs p "
                         "USING (paragraph_id) WHERE pn.method = 'codebook'"):
            found.setdefault(r["text"], {})[r["narrative_id"]] = r["stance"]
        out[mode] = score_against_rows(rows, found, narratives) | {"run_seconds": round(seconds, 1)}
    return out


def section_euvsdisinfo(corpus: Path, tmp: Path) -> dict:
    out = {}
    for mode, setting in MODES.items():
        db = tmp / f"euvs-{mode}.duckdb"
        seconds, _ = cli("run", "--input", str(corpus), "--text-column", "title", "--db", str(db), "--stance-model", setting)
        per = sql(db, "SELECT narrative_id, stance, count(*) AS paragraphs FROM paragraph_narratives "
                      "WHERE method = 'codebook' GROUP BY ALL ORDER BY ALL")
        claims = sql(db, "SELECT count(*) AS n FROM paragraphs")[0]["n"]
        csto = sql(db, "SELECT count(*) AS n, min(partition_date) AS first, max(partition_date) AS last FROM paragraph_narratives "
                       "WHERE narrative_id = 'csto_justification' AND method = 'codebook'")[0]
        examples = sql(db, "SELECT pn.narrative_id, pn.stance, p.text FROM paragraph_narratives pn JOIN paragraphs p "
                           "USING (paragraph_id) WHERE pn.method = 'codebook' ORDER BY hash(p.paragraph_id) LIMIT 12")
        out[mode] = {"run_seconds": round(seconds, 1), "paragraphs": claims,
                     "assignments": {f"{r['narrative_id']}/{r['stance']}": r["paragraphs"] for r in per},
                     "csto_justification": {"claims": csto["n"], "first": str(csto["first"]), "last": str(csto["last"])},
                     "sample_assignments": examples}
    out["time_ratio_pair_vs_none"] = round(out["pair"]["run_seconds"] / out["none"]["run_seconds"], 2)
    return out


def _day_one_codebook(tmp: Path) -> Path:
    import yaml

    book = yaml.safe_load((REPO / "codebook" / "narratives.yaml").read_text(encoding="utf-8"))
    for n in DAY_ONE:
        book["narratives"].append({k: n[k] for k in ("id", "label", "description", "examples")})
    path = tmp / "day_one.yaml"
    path.write_text(yaml.safe_dump(book, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def section_day_one(corpus: Path, tmp: Path, others: int = 3000, seed: int = 0) -> dict:
    with open(corpus, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    tags = {n["tag"] for n in DAY_ONE}
    tagged = [r for r in rows if tags & set(r["keywords"].split("+"))]
    rest = [r for r in rows if not tags & set(r["keywords"].split("+"))]
    chosen = tagged + random.Random(seed).sample(rest, min(others, len(rest)))
    subset = tmp / "day_one.csv"
    with open(subset, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(chosen)
    gold = {r["title"].strip(): set(r["keywords"].split("+")) for r in chosen}
    codebook = _day_one_codebook(tmp)
    out = {"claims": len(chosen), "tagged": len(tagged)}
    for mode, setting in MODES.items():
        db = tmp / f"day-one-{mode}.duckdb"
        seconds, _ = cli("run", "--input", str(subset), "--text-column", "title", "--db", str(db), "--codebook", str(codebook),
                         "--stance-model", setting)
        found: dict[str, set[str]] = {}
        for r in sql(db, "SELECT p.text, pn.narrative_id FROM paragraph_narratives pn JOIN paragraphs p USING (paragraph_id) "
                         "WHERE pn.method = 'codebook'"):
            found.setdefault(r["text"].strip(), set()).add(r["narrative_id"])
        per = {}
        for n in DAY_ONE:
            tp = sum(n["tag"] in g and n["id"] in found.get(t, set()) for t, g in gold.items())
            fp = sum(n["tag"] not in g and n["id"] in found.get(t, set()) for t, g in gold.items())
            fn = sum(n["tag"] in g and n["id"] not in found.get(t, set()) for t, g in gold.items())
            per[n["id"]] = prf(tp, fp, fn)
        out[mode] = {"run_seconds": round(seconds, 1), "per_narrative": per,
                     "mean_precision": round(sum(v["precision"] for v in per.values()) / len(per), 3),
                     "mean_recall": round(sum(v["recall"] for v in per.values()) / len(per), 3)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser, FNC1)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--out", default=str(HERE / "results" / "pair_quality.json"))
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    fnc = require(FNC1, args.fnc) if "fnc" in only else None
    corpus = require(EUVSDISINFO, args.corpus) if {"euvsdisinfo", "day_one"} & set(only) else None
    out_path = Path(args.out)
    result = json.loads(out_path.read_text()) if out_path.is_file() else {}
    meta = json.loads((REPO / "narrative_tracker" / "narratives" / "pair_artifact" / "pair_model.json").read_text())
    stamp = {"measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"), "pair_model": meta["version"],
             "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in only:
            started = time.monotonic()
            print(f"[pair_quality] {name} ...", file=sys.stderr, flush=True)
            if name == "fnc":
                section = section_fnc(fnc)
            elif name == "labelled":
                section = section_labelled()
            elif name == "sample_run":
                section = section_sample_run(tmp)
            elif name == "euvsdisinfo":
                section = section_euvsdisinfo(corpus, tmp)
            elif name == "day_one":
                section = section_day_one(corpus, tmp)
            else:
                raise SystemExit(f"unknown section {name!r}; choose from {SECTIONS}")
            result[name] = section | stamp | {"seconds": round(time.monotonic() - started, 1)}
            out_path.parent.mkdir(parents=True, exist_ok=True)
            out_path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    result["targets"] = TARGETS
    out_path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "targets"}, indent=1, default=str)[:4000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
