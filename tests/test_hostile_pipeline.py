"""Hostile input through the whole pipeline (real CLI, Dagster runs, model, DuckDB file, HTML report): every
input path is accounted for, nothing outside the input root is read, the report is a valid document with no
executable link and no unescaped markup, and re-running duplicates nothing. (The inbox-only cases, a file
delivered with ``cp -p`` and a half-written file, are in ``test_inbox.py``.)"""

import contextlib
import csv
import io
import json
import os

import duckdb
import pytest

from pipelines.cli import main

pytestmark = pytest.mark.slow

SECRET = "SECRET-7f3a outside the input root: a private note that must never be read"
MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&amp;'
BAD_URLS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/x",
]
GOOD_URL = 'https://news.example/a?b=1&c="><script>alert(3)</script>'
# Paraphrases of the codebook's "foreign hand" narrative, so that these rows become the report's evidence.
CLAIMS = [
    "The unrest was no spontaneous protest: foreign intelligence services planned and paid for the riots {m}.",
    "Western organisers abroad coordinated the attempted coup, a colour revolution on the Maidan model {m}.",
    "Washington and its NATO allies staged the riots to destabilise the country from outside {m}.",
    "Sponsors abroad financed the militants and directed the unrest through foreign agents {m}.",
    "The riots followed a script written by Western special services, exactly as in Ukraine {m}.",
    "Foreign curators trained the organisers of the unrest and sent them money from abroad {m}.",
    "The coup attempt was directed from abroad by the same Western services behind the Maidan {m}.",
]


def _hostile_tree(root, outside):
    inbox = root / "inbox"
    (inbox / "nested").mkdir(parents=True)
    (inbox / ".hidden").mkdir()
    (inbox / ".hidden" / "article.txt").write_text("Hidden\n\nA hidden folder's article.\n")
    (inbox / ".dotfile.txt").write_text("Dot\n\nA hidden file's article.\n")
    (inbox / "README.md").write_text("# About this inbox\n")
    rows = []
    for i, claim in enumerate(CLAIMS):
        url = BAD_URLS[i] if i < len(BAD_URLS) else GOOD_URL
        rows.append({"title": f"Title {i} {MARKUP}", "text": claim.format(m=MARKUP), "date": f"2022-01-0{5 + i % 4}",
                     "outlet": f"Outlet {i % 2} {MARKUP}", "url": url, "author": MARKUP, "tags": f"tag{i}+{MARKUP}"})
    rows.append({"title": "Good link", "text": CLAIMS[0].format(m="(second source)"), "date": "2022-01-08",
                 "outlet": "Plain outlet", "url": GOOD_URL, "author": "", "tags": ""})
    # the only paragraph of another narrative, so that a safe link is always among the report's evidence
    rows.append({"title": "Good link, CSTO", "text": "The CSTO deployment was justified: the peacekeeping contingent "
                 "came at the lawful request of the government and restored order.", "date": "2022-01-08",
                 "outlet": "Plain outlet", "url": GOOD_URL, "author": "", "tags": ""})
    rows.append({"title": "Future", "text": "A claim dated far in the future, about the unrest.", "date": "2999-01-01",
                 "outlet": "Plain outlet", "url": "", "author": "", "tags": ""})
    with open(inbox / "hostile.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (inbox / "random.bin").write_bytes(bytes((i * 7919 + 13) % 256 for i in range(3000)))
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "cp1251.txt").write_bytes("Заголовок\n\nВласти сообщили о задержании участников беспорядков в Алматы.".encode("cp1251"))
    (inbox / "nested" / "utf16.txt").write_bytes("Titre\n\nLe gouvernement a prolongé l'état d'urgence, selon les médias.".encode("utf-16"))
    (inbox / "broken.jsonl").write_text(json.dumps({"text": "One good line of the JSON Lines file, long enough."}) + "\n{broken\n[1, 2]\n")
    (inbox / "no_text_column.csv").write_text("title,date\nOnly a title,2022-01-05\n")
    (inbox / "huge.txt").write_text("Huge\n\n" + "A long paragraph about nothing in particular. " * 2000)
    (inbox / "link-out.txt").symlink_to(outside)
    (inbox / "nested" / "link-dir").symlink_to(outside.parent, target_is_directory=True)
    os.mkfifo(inbox / "pipe.txt")
    return inbox


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    outside = root / "private" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text(f"Private\n\n{SECRET}.\n")
    inbox = _hostile_tree(root, outside)
    database, report = root / "h.duckdb", root / "report.html"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setenv("NARRATIVES_MAX_FILE_MB", "0.05")  # huge.txt (~92 KB) is over it, everything else under
        assert main(["run", "--db", str(database), "--input", str(inbox)]) == 0, out.getvalue()
        assert main(["report", "--db", str(database), "--out", str(report), "--day", "2022-01-08"]) == 0
        first = _state(database)
        assert main(["run", "--db", str(database), "--input", str(inbox), "--force"]) == 0
    return inbox, database, report, first


def _state(database):
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM quarantine), (SELECT count(*) FROM input_files), "
            "(SELECT count(*) FROM paragraphs), (SELECT count(DISTINCT paragraph_id) FROM paragraphs), "
            "(SELECT count(*) FROM paragraph_narratives), (SELECT count(DISTINCT (paragraph_id, narrative_id, method)) FROM paragraph_narratives)"
        ).fetchone()


def test_every_input_path_is_accounted_for(hostile_run):
    inbox, database, _, _ = hostile_run
    with duckdb.connect(str(database), read_only=True) as con:
        outcomes = {os.path.relpath(p, inbox): (o, r) for p, o, r in con.execute("SELECT path, outcome, reason FROM input_files").fetchall()}
        quarantine = {(os.path.relpath(p, inbox), r) for p, r in con.execute("SELECT source_path, reason FROM quarantine").fetchall()}
    assert outcomes == {
        ".hidden": ("skipped", "hidden folder"),
        ".dotfile.txt": ("skipped", "hidden file"),
        "README.md": ("skipped", "readme or licence file"),
        "hostile.csv": ("ingested", None),
        "broken.jsonl": ("ingested", None),
        "cp1251.txt": ("ingested", None),
        "nested/utf16.txt": ("ingested", None),
        "random.bin": ("quarantined", "binary file"),
        "empty.txt": ("quarantined", "empty file"),
        "no_text_column.csv": ("quarantined", "no text column"),
        "huge.txt": ("quarantined", "file over size cap"),
        "link-out.txt": ("quarantined", "outside input root"),
        "nested/link-dir": ("skipped", "link to a folder (not followed)"),
        "pipe.txt": ("quarantined", "special file"),
    }
    # every path under the inbox (walked here independently, without following links) is in that table
    walked = set()
    for folder, dirs, files in os.walk(inbox):
        plain_folders = {n for n in dirs if not n.startswith(".") and not os.path.islink(os.path.join(folder, n))}
        walked |= {os.path.relpath(os.path.join(folder, n), inbox) for n in files + dirs if n not in plain_folders}
    assert walked - {".hidden/article.txt"} == set(outcomes)
    assert quarantine == {("broken.jsonl", "malformed json"), ("broken.jsonl", "not an object")} | {
        (p, r) for p, (o, r) in outcomes.items() if o == "quarantined"}


def test_nothing_outside_the_input_root_is_read(hostile_run):
    _, database, report, _ = hostile_run
    with duckdb.connect(str(database), read_only=True) as con:
        for table, columns in {"articles": "body, title, metadata", "quarantine": "excerpt, detail", "paragraphs": "text"}.items():
            hits = con.execute(f"SELECT count(*) FROM {table} WHERE concat_ws(' ', {columns}) LIKE '%SECRET-7f3a%'").fetchone()[0]
            assert hits == 0, table
        detail = con.execute("SELECT detail FROM quarantine WHERE reason = 'outside input root'").fetchone()[0]
        assert "secret.txt" in detail and "not read" in detail
        assert con.execute("SELECT count(*) FROM articles WHERE body LIKE 'Huge%' OR body LIKE 'A long paragraph%'").fetchone()[0] == 0
    assert "SECRET-7f3a" not in report.read_text()


def test_report_is_valid_and_carries_no_executable_link_or_markup(hostile_run):
    import html5lib

    _, _, report, _ = hostile_run
    html = report.read_text(encoding="utf-8")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = parser.parse(html)  # strict: any parse error raises
    elements = list(document.iter())
    tags = {e.tag for e in elements if isinstance(e.tag, str)}
    assert not tags & {"script", "img", "iframe", "object", "embed", "form", "base"}
    assert len([e for e in elements if e.tag == "meta"]) == 1  # only the charset
    links = [e.get("href") for e in elements if e.tag == "a"]
    assert GOOD_URL in links and all(link.startswith("https://") for link in links)
    for e in elements:
        if not isinstance(e.tag, str):
            continue
        for name, value in e.attrib.items():
            assert not name.lower().startswith("on"), (e.tag, name)
            assert "javascript:" not in value.lower().replace("\t", "") and not value.lower().startswith("data:"), (e.tag, name, value)
    text = "".join(document.itertext())
    assert MARKUP in text  # the hostile strings are shown, as text
    shown = [url for url in BAD_URLS if url.strip() in text]
    assert shown  # an unsafe URL of the evidence is shown as text, not as a link
    assert any(f"Title {i} {MARKUP}" in text for i in range(len(CLAIMS)))  # titles and outlets too, as text
    assert any(f"Outlet {i} {MARKUP}" in text for i in range(2))


def test_only_http_and_https_urls_become_links():
    from narrative_tracker.surfaces.report import web_link

    assert [web_link(url) for url in BAD_URLS + ["file:///etc/passwd", "https://", "http:/x", "https://a b", ""]] == [None] * 12
    assert web_link(GOOD_URL) == GOOD_URL and web_link("HTTP://Example.org/x") == "HTTP://Example.org/x"


def test_rerunning_duplicates_nothing(hostile_run):
    _, database, _, first = hostile_run
    assert _state(database) == first
    assert first[3] == first[4] and first[5] == first[6]
    assert first[0] == 7 + 3 + 1 + 1 + 1  # hostile.csv (7 claims, two good links, future) + JSON line + cp1251 + UTF-16
