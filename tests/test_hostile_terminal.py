"""Nothing the CLI prints can drive the analyst's terminal (issue 27, defect 7): titles, outlets, labels, alert
messages and paragraph text holding ESC sequences (stored by an older version, or typed into a command) are shown
with their control characters escaped (``\\x1b``), by every command that prints them."""

import pytest
from hostile_cases import LEGACY, assert_terminal_safe, legacy_database

from pipelines.cli import main


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    return legacy_database(tmp_path_factory.mktemp("terminal"))


@pytest.mark.parametrize("command", [
    ["summary"],
    ["narrative", "list"],
    ["alerts"],
    ["search", "riots organised from abroad", "--mode", "keyword"],
    ["sql", "SELECT title, outlet FROM articles"],
    ["sql", "SELECT chr(27) || '[2J' || chr(7) AS typed"],
    ["sql", "SELECT * FROM no_such_table_\x1b[2J"],
])
def test_output_carries_no_raw_control_character(legacy, capsys, command):
    status = main([*command, "--db", str(legacy)])
    out, err = capsys.readouterr()
    assert status in (0, 1) and out + err
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    if command[0] in ("summary", "narrative", "alerts"):
        assert "\\x1b[" in out  # shown, escaped, not dropped: the analyst sees what the data holds


def test_values_are_still_there_escaped(legacy, capsys):
    assert main(["narrative", "list", "--db", str(legacy)]) == 0
    out = capsys.readouterr().out
    assert "Label \\x1b[31mred\\x01" in out
    assert LEGACY["label"] not in out


def test_error_messages_are_escaped_too(tmp_path, capsys):
    status = main(["summary", "--db", str(tmp_path / "no\x1b[2Jdb.duckdb")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert_terminal_safe(err)
