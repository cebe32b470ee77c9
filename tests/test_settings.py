"""narrative_tracker.settings: the one place environment variables are read."""

import subprocess
from pathlib import Path

import pytest

from narrative_tracker.settings import DEFAULT_CODEBOOK, DEFAULT_DB, Settings, SettingsError, load_settings, settings_table

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_when_nothing_is_set():
    s = load_settings({})
    assert s == Settings()
    assert s.db == DEFAULT_DB and s.codebook == DEFAULT_CODEBOOK and s.model == "" and s.precision == "auto"
    assert s.inbox is None and s.progress is False and s.inputs == ()  # the sample is read only when named


def test_every_variable_is_parsed_by_its_type(tmp_path):
    env = {"NARRATIVES_DB": "x/y.duckdb", "NARRATIVES_MODEL": "/models/m", "NARRATIVES_PRECISION": "fp32",
           "NARRATIVES_CODEBOOK": "cb.yaml", "NARRATIVES_INPUT": f"a.csv:{tmp_path}:", "NARRATIVES_INBOX": str(tmp_path),
           "NARRATIVES_PROGRESS": "1", "DAGSTER_HOME": str(tmp_path / "dh")}
    s = load_settings(env)
    assert s.db == "x/y.duckdb" and s.model == "/models/m" and s.precision == "fp32"
    assert s.codebook == Path("cb.yaml") and s.inputs == ("a.csv", str(tmp_path)) and s.inbox == tmp_path
    assert s.progress is True and s.dagster_home == tmp_path / "dh"


def test_empty_variable_keeps_the_default_and_bad_values_say_which_variable():
    assert load_settings({"NARRATIVES_DB": "", "NARRATIVES_INBOX": ""}) == Settings()
    with pytest.raises(SettingsError, match="NARRATIVES_PROGRESS"):
        load_settings({"NARRATIVES_PROGRESS": "maybe"})


def test_replace_ignores_options_not_given():
    s = load_settings({"NARRATIVES_DB": "env.duckdb"})
    assert s.replace(db=None, model="m").db == "env.duckdb"
    assert s.replace(db="cli.duckdb").db == "cli.duckdb"


def test_table_lists_every_variable_once():
    table = settings_table()
    for name in ("NARRATIVES_DB", "NARRATIVES_MODEL", "NARRATIVES_PRECISION", "NARRATIVES_CODEBOOK", "NARRATIVES_INPUT",
                 "NARRATIVES_INBOX", "NARRATIVES_PROGRESS", "DAGSTER_HOME"):
        assert table.count(f"`{name}`") == 1


def test_only_the_settings_module_reads_the_environment():
    out = subprocess.run(["grep", "-rln", "os.environ", "--include=*.py", "narrative_tracker", "assets", "pipelines"],
                         cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert out == ["narrative_tracker/settings.py"]


def test_the_configuration_page_shows_the_current_table():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings_table() in page, "docs/configuration.md is out of date: paste settings_table() into it"
