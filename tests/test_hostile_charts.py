"""A control character in an outlet or a label never aborts a run or a report (issue 27, defect 1): the chart
renderer (vl-convert) kills the whole process (SIGABRT) on C0 controls, NUL and U+FFFE/U+FFFF. Nothing stored today
holds them (textsafe), values an older version stored are made safe at the chart boundary, and an analyst's rename
is sanitised. Each command runs in its own process: an abort cannot take the test runner down."""

import subprocess
import sys

import html5lib
import pytest
from conftest import REPO
from hostile_cases import LEGACY, UNSAFE, legacy_database

import duckdb


@pytest.fixture
def legacy(tmp_path):
    return legacy_database(tmp_path)


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _report_ok(database, out):
    proc = _cli("report", "--db", str(database), "--out", str(out))
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    html = out.read_text(encoding="utf-8")
    assert not UNSAFE.search(html)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)  # strict: a control character is a parse error
    return html


def test_the_report_renders_values_an_older_version_stored(legacy, tmp_path):
    html = _report_ok(legacy, tmp_path / "report.html")
    assert "Label [31mred" in html and "Outlet name" in html  # shown without their control characters
    assert "<svg" in html


def test_a_rename_to_a_control_character_is_sanitised(legacy, tmp_path):
    proc = _cli("narrative", "rename", "d_0123456789", "a\x01b\x1bc\ufffe", "--db", str(legacy))
    assert proc.returncode == 0, proc.stderr
    with duckdb.connect(str(legacy), read_only=True) as con:
        assert con.execute("SELECT label FROM narratives WHERE narrative_id = 'd_0123456789'").fetchone()[0] == "abc"
    _report_ok(legacy, tmp_path / "report.html")


def test_a_rename_to_nothing_is_refused(legacy):
    proc = _cli("narrative", "rename", "d_0123456789", "\x01\x02 ", "--db", str(legacy))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "label" in proc.stderr


def test_the_chart_boundary_takes_any_stored_string():
    """Every character the renderer aborts on, in every string column of a chart's frame."""
    code = (
        "import altair as alt, polars as pl\n"
        "from narrative_tracker import textsafe\n"
        "from narrative_tracker.surfaces.charts import svg_text\n"
        "bad = ''.join(map(chr, [*range(0, 32), 0x7f, *range(0x80, 0xa0), 0xfffe, 0xffff, 0xfdd0]))\n"
        "frame = textsafe.chart_frame(pl.DataFrame({'label': ['a' + bad, 'b'], 'v': [1, 2]}))\n"
        "svg = svg_text(alt.Chart(frame, title='t').mark_bar().encode(x='label:N', y='v:Q'))\n"
        "assert '<svg' in svg\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])


def test_legacy_values_are_what_the_fixture_says(legacy):
    with duckdb.connect(str(legacy), read_only=True) as con:
        assert con.execute("SELECT DISTINCT outlet FROM articles").fetchone()[0] == LEGACY["outlet"]
