"""The hostile-file audit of issue 27, re-run on a checkout: 22 crafted input files of the audit's kinds (it tried 21),
each delivered beside a good file.

For every file, in its own processes (as the issue's audit ran them): ingest the folder and build paragraphs; draw
the outlet chart of what was stored (``charts.outlet_heatmap``, the chart every run and report draws: a control
character in an outlet made vl-convert abort the process); print ``narratives summary``. Then the outcome:

- ``failed ingest``: the ingest raised (its good neighbours are lost with it);
- ``aborted``: a process died on a signal (the chart renderer's SIGABRT);
- ``lost good records``: a good record of the file or its neighbour is not in ``articles``;
- ``mojibake``: a file of known text was stored as something else (a whole file decoded in the wrong charset);
- ``terminal escape``: ``narratives summary`` printed a raw control character;
- ``stored unsafe``: a control character, NUL or noncharacter reached the database;
- ``handled``: none of these.

Run it on this checkout, and with ``--checkout DIR`` on another (the commit before the fix), with the same venv:

    .venv/bin/python benchmarks/hostile_audit.py --out benchmarks/results/hostile_audit.json
    .venv/bin/python benchmarks/hostile_audit.py --checkout /tmp/before --out /tmp/before.json

The files reconstruct the audit's categories (its own files are not in the repository); docs/security.md shows both
the audit's figure and this script's, before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
GOOD = "GOODMARK-{n}: a good record of the audit, about the events in the capital, written at some length."
RU = "Власти Казахстана сообщили о задержании участников беспорядков в Алматы."
QUOTES = "“The unrest was organised from abroad,” the minister said — without evidence — on Thursday’s briefing."
ESC = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"


def _jsonl(*records) -> bytes:
    return ("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n").encode()


def _csv(*rows, encoding: str = "utf-8") -> bytes:
    import csv
    import io

    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _rss(*descriptions: str, doctype: str = "") -> bytes:
    items = "".join(f"<item><title>Item {i}</title><description>{d}</description>"
                    "<pubDate>Wed, 05 Jan 2022 10:00:00 GMT</pubDate></item>" for i, d in enumerate(descriptions, 1))
    return (f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>Audit feed</title>{items}</channel></rss>').encode()


def _bad_byte(text: str) -> bytes:
    data = text.encode()
    cut = len(data) // 2
    while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # between two characters
        cut += 1
    return data[:cut] + b"\xff" + data[cut:]


LAUGHS = ('<!DOCTYPE rss [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)) + "]>")


def cases() -> list[dict]:
    """``name``, file ``data``, ``good`` (markers of good records in it), ``text`` (a phrase it must be stored with)."""
    secret = "root:x:0:0"
    return [
        # the 13 kinds the audit found handled
        {"name": "random.bin", "data": bytes((i * 7919 + 13) % 256 for i in range(3000)), "good": []},
        {"name": "empty.txt", "data": b"", "good": []},
        {"name": "cp1251.txt", "data": f"Заголовок\n\n{RU} GOODMARK-1.".encode("cp1251"), "good": [1], "text": RU},
        {"name": "utf16.txt", "data": f"Titre\n\n{GOOD.format(n=1)} Été.".encode("utf-16"), "good": [1], "text": "Été"},
        {"name": "broken.jsonl", "data": _jsonl({"text": GOOD.format(n=1)}, "{broken", "[1, 2]"), "good": [1]},
        {"name": "no-text-column.csv", "data": b"title,date\nOnly a title,2022-01-05\n", "good": []},
        {"name": "xxe.rss", "data": _rss(f"{GOOD.format(n=1)} &xxe;", doctype='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
         "good": [1], "never": secret},
        {"name": "laughs.xml", "data": _rss("&lol9;", doctype=LAUGHS), "good": []},
        {"name": "bomb.gz", "data": gzip.compress(b"\0" * 50_000_000, 9), "good": []},
        {"name": "markup.csv", "data": _csv(["title", "text", "outlet"], ["<script>alert(1)</script>", GOOD.format(n=1),
                                                                         "<img src=x onerror=alert(2)>"]), "good": [1]},
        {"name": "huge.txt", "data": ("Huge\n\n" + "A long paragraph about nothing. " * 4000).encode(), "good": []},
        {"name": "bom-utf8.txt", "data": f"\ufeffHeadline\n\n{GOOD.format(n=1)}".encode(), "good": [1]},
        {"name": "cp1252.csv", "data": _csv(["text"], [f"{GOOD.format(n=1)} café crème"], encoding="cp1252"), "good": [1],
         "text": "café crème"},
        # the kinds the audit found defective
        {"name": "control-outlet.csv", "data": _csv(["title", "text", "outlet"], ["T1", GOOD.format(n=1), "Out\x01let"],
                                                    ["T2", GOOD.format(n=2), "Plain"]), "good": [1, 2]},
        {"name": "fffe-outlet.jsonl", "data": _jsonl({"text": GOOD.format(n=1), "outlet": "Out\ufffelet", "title": "T\uffff"},
                                                     {"text": GOOD.format(n=2), "outlet": "Nul\u0000"}), "good": [1, 2]},
        {"name": "surrogate.jsonl", "data": _jsonl({"text": GOOD.format(n=1)}, '{"text": "\\ud800 a lone surrogate opens it."}',
                                                   {"text": GOOD.format(n=2)}), "good": [1, 2]},
        {"name": "deep.jsonl", "data": _jsonl({"text": GOOD.format(n=1)}, "[" * 100_000, {"text": GOOD.format(n=2)}), "good": [1, 2]},
        {"name": "surrogate-ref.rss", "data": _rss(GOOD.format(n=1), "Bad &#xD800; entry.", GOOD.format(n=2)), "good": [1, 2]},
        {"name": "bad-byte-ru.txt", "data": _bad_byte(f"Заголовок\n\n{RU} {RU} GOODMARK-1."), "good": [1], "text": "Власти Казахстана"},
        {"name": "bad-byte-quotes.txt", "data": _bad_byte(f"Headline\n\n{QUOTES} {QUOTES} GOODMARK-1."), "good": [1], "text": "“The unrest"},
        {"name": "escape-title.txt", "data": f"{ESC}Title{ESC}\n\n{GOOD.format(n=1)}\n\nSource: Out{ESC}let\n".encode(), "good": [1]},
        {"name": "late-nul.txt", "data": (f"Headline\n\n{GOOD.format(n=1)} " + "word " * 2000).encode() + b"\x00\x00 tail.\n", "good": [1]},
    ]


CHILD = r"""
import datetime as dt, sys
from narrative_tracker import db
from narrative_tracker.ingest.files import ingest_paths
from narrative_tracker.paragraphs.split import build_paragraphs
path, inbox = sys.argv[1], sys.argv[2]
with db.connection(path) as con:
    ingest_paths(con, [inbox], max_file_mb=0.1)
    print("STAGE ingest", flush=True)
    build_paragraphs(con, dt.date(2000, 1, 1), dt.date(2030, 1, 1))
    # what detection would write: every paragraph carries one narrative, so the outlet chart has every outlet
    con.execute("INSERT INTO narratives (narrative_id, label, origin, paragraphs, created_at, updated_at) "
                "VALUES ('audit', 'Audit', 'codebook', 0, now(), now())")
    con.execute("INSERT INTO paragraph_narratives (paragraph_id, narrative_id, partition_date, score, method, model, assigned_at) "
                "SELECT paragraph_id, 'audit', partition_date, 1.0, 'codebook', 'm', now() FROM paragraphs")
print("STAGE paragraphs", flush=True)
db.publish(path)
from narrative_tracker.surfaces import charts
with db.connection(path, read_only=True) as con:
    svg = charts.svg_text(charts.outlet_heatmap(con, days=100000))
print("STAGE chart", len(svg), flush=True)
"""


def run_case(case: dict, folder: Path, checkout: Path) -> dict:
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "neighbour.txt").write_text(f"Neighbour\n\n{GOOD.format(n=0)}\n", encoding="utf-8")
    (inbox / case["name"]).write_bytes(case["data"])
    database = folder / "audit.duckdb"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NARRATIVES_RUN_HISTORY": "none"}
    child = subprocess.run([sys.executable, "-c", CHILD, str(database), str(inbox)], cwd=checkout, env=env,
                           capture_output=True, text=True, timeout=600)
    stages = re.findall(r"^STAGE (\w+)", child.stdout, re.M)
    outcome = {"name": case["name"], "returncode": child.returncode, "stages": stages}
    outcome["failed ingest"] = "ingest" not in stages
    outcome["aborted"] = child.returncode < 0
    work = database.with_name("audit.work.duckdb")
    stored = ""
    found: set[int] = set()
    unsafe = False
    if work.exists():
        import duckdb

        with duckdb.connect(str(work), read_only=True) as con:
            rows = con.execute("SELECT coalesce(body, '') || ' ' || coalesce(title, '') || ' ' || coalesce(outlet, '') "
                               "FROM articles").fetchall()
            stored = " ".join(r[0] for r in rows)
            found = {int(n) for n in re.findall(r"GOODMARK-(\d+)", stored)}
            texts = [v for (v,) in con.execute(
                "SELECT concat_ws(' ', body, title, outlet, author, metadata::VARCHAR) FROM articles "
                "UNION ALL SELECT concat_ws(' ', detail, excerpt, locator) FROM quarantine").fetchall() if v]
            unsafe = any(UNSAFE.search(t) for t in texts)
            outcome["quarantine"] = sorted(f"{loc or 'file'}: {reason}" for loc, reason in
                                           con.execute("SELECT locator, reason FROM quarantine").fetchall())
    expected = {0, *case["good"]}
    outcome["lost good records"] = len(expected - found)
    outcome["mojibake"] = bool(case.get("text")) and case["text"] not in stored
    outcome["stored unsafe"] = unsafe
    outcome["read outside"] = bool(case.get("never")) and case["never"] in stored
    summary = ""
    if database.exists():
        shown = subprocess.run([sys.executable, "-m", "pipelines.cli", "summary", "--db", str(database)], cwd=checkout, env=env,
                               capture_output=True, text=True, timeout=600)
        summary = shown.stdout + shown.stderr
        outcome["aborted"] = outcome["aborted"] or shown.returncode < 0
    outcome["terminal escape"] = bool(TERMINAL_UNSAFE.search(summary))
    problems = ("failed ingest", "aborted", "mojibake", "terminal escape", "stored unsafe", "read outside")
    outcome["handled"] = not outcome["lost good records"] and not any(outcome[p] for p in problems)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", default=str(REPO), help="the checkout whose code runs the cases (default: this one)")
    parser.add_argument("--out", default="", help="write the results as JSON here")
    parser.add_argument("--label", default="", help="the commit to record when the checkout has no git metadata")
    args = parser.parse_args(argv)
    checkout = Path(args.checkout).resolve()
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    results = []
    with tempfile.TemporaryDirectory(prefix="hostile-audit-") as tmp:
        for case in cases():
            outcome = run_case(case, Path(tmp) / case["name"], checkout)
            results.append(outcome)
            flags = [k for k in ("failed ingest", "aborted", "mojibake", "terminal escape", "stored unsafe", "read outside") if outcome[k]]
            lost = f", {outcome['lost good records']} good lost" if outcome["lost good records"] else ""
            print(f"{case['name']:<22} {'handled' if outcome['handled'] else 'NOT handled'}{lost} {' '.join(flags)}", flush=True)
    totals = {"files": len(results), "handled": sum(r["handled"] for r in results),
              "files losing good records": sum(r["lost good records"] > 0 for r in results),
              "good records lost": sum(r["lost good records"] for r in results),
              **{k: sum(bool(r[k]) for r in results) for k in ("failed ingest", "aborted", "mojibake", "terminal escape",
                                                                 "stored unsafe", "read outside")}}
    print(json.dumps(totals))
    if args.out:
        Path(args.out).write_text(json.dumps({"date": dt.date.today().isoformat(), "checkout": str(checkout), "commit": args.label or commit or None,
                                              "machine": "2-core Xeon, shared with other work", "totals": totals,
                                              "cases": results}, indent=1, ensure_ascii=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
