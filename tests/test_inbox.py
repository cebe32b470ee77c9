"""The inbox sensor, evaluated for real (``build_sensor_context``) and followed by real ingest runs: files are
taken by content, whatever their modification time, and only once stable for the settle period."""

import os
import shutil
import subprocess
import time

import dagster as dg
import duckdb
import pytest

from narrative_tracker import db

SETTLE = 0.6
ARTICLE = "Headline {n}\n\nThe {n} article tells of the events of the week in the capital, at some length.\n"


@pytest.fixture
def inbox_env(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    database = tmp_path / "n.duckdb"
    monkeypatch.setenv("NARRATIVES_INBOX", str(inbox))
    monkeypatch.setenv("NARRATIVES_DB", str(database))
    monkeypatch.setenv("NARRATIVES_INBOX_SETTLE_SECONDS", str(SETTLE))
    return inbox, database


class Ticks:
    """Successive sensor evaluations sharing the cursor, as the daemon does."""

    def __init__(self):
        self.cursor = None

    def __call__(self):
        from pipelines.definitions import inbox

        context = dg.build_sensor_context(cursor=self.cursor)
        result = inbox(context)
        self.cursor = context.cursor
        return result


def _ingest(request, database):
    from pipelines.definitions import defs

    result = defs.resolve_job_def("ingest_job").execute_in_process(
        run_config=request.run_config | {"resources": {"db": {"config": {"path": str(database)}}}},
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "every_input_accounted_for" and check.passed
    return {e.asset_key.path[-1]: e.materialization.metadata for e in result.get_asset_materialization_events()}


def _taken(result):
    assert isinstance(result, dg.RunRequest), result
    return sorted(os.path.basename(p) for p in result.run_config["ops"]["ingest"]["config"]["paths"])


def _bodies(database):
    db.publish(database)
    with duckdb.connect(str(database), read_only=True) as con:
        return sorted(r[0] for r in con.execute("SELECT body FROM articles").fetchall())


def test_cp_p_with_an_old_mtime_is_ingested_after_newer_files(inbox_env, tmp_path):
    inbox, database = inbox_env
    tick = Ticks()
    (inbox / "today.txt").write_text(ARTICLE.format(n="first"))
    assert isinstance(tick(), dg.SkipReason)  # seen, not yet stable
    time.sleep(SETTLE)
    request = tick()
    assert _taken(request) == ["today.txt"]
    _ingest(request, database)
    assert isinstance(tick(), dg.SkipReason)

    # delivered with its original (older) time kept: the old mtime cursor never took it
    outside = tmp_path / "archive"
    outside.mkdir()
    (outside / "old.txt").write_text(ARTICLE.format(n="archived"))
    os.utime(outside / "old.txt", (1_500_000_000, 1_500_000_000))
    subprocess.run(["cp", "-p", str(outside / "old.txt"), str(inbox / "old.txt")], check=True)
    assert (inbox / "old.txt").stat().st_mtime == 1_500_000_000
    skip = tick()
    assert isinstance(skip, dg.SkipReason) and "1 waiting to settle" in skip.skip_message
    time.sleep(SETTLE)
    request = tick()
    assert _taken(request) == ["old.txt"]
    _ingest(request, database)
    assert [b.split()[1] for b in _bodies(database)] == ["archived", "first"]
    # the same content under another name is not taken again; nor is anything after the publish
    shutil.copy2(inbox / "old.txt", inbox / "old-copy.txt")
    time.sleep(SETTLE)
    tick()
    time.sleep(SETTLE)
    skip = tick()
    assert isinstance(skip, dg.SkipReason) and "3 already ingested" in skip.skip_message


def test_a_file_growing_across_two_ticks_is_taken_whole(inbox_env):
    inbox, database = inbox_env
    tick = Ticks()
    path = inbox / "growing.txt"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("Headline of the growing file\n\nThe first half of the text, written")
        handle.flush()
        assert isinstance(tick(), dg.SkipReason)
        time.sleep(SETTLE)
        handle.write(" and the second half, written a tick later by a slow writer.\n")
        handle.flush()
        skip = tick()  # changed since the last look: not stable yet
        assert isinstance(skip, dg.SkipReason) and "waiting to settle" in skip.skip_message
    time.sleep(SETTLE)
    request = tick()
    assert _taken(request) == ["growing.txt"]
    _ingest(request, database)
    assert _bodies(database) == ["The first half of the text, written and the second half, written a tick later by a slow writer."]


def test_a_rename_into_the_folder_and_a_link_out_of_it(inbox_env, tmp_path):
    inbox, database = inbox_env
    secret = tmp_path / "secret.txt"
    secret.write_text("Private\n\nA private note outside the inbox that must never become an article.\n")
    staging = inbox.parent / "staging"
    staging.mkdir()
    (staging / "moved.txt").write_text(ARTICLE.format(n="moved"))
    os.utime(staging / "moved.txt", (1_400_000_000, 1_400_000_000))
    tick = Ticks()
    assert isinstance(tick(), dg.SkipReason)  # empty inbox
    os.rename(staging / "moved.txt", inbox / "moved.txt")
    (inbox / "link.txt").symlink_to(secret)
    tick()
    time.sleep(SETTLE)
    request = tick()
    assert _taken(request) == ["link.txt", "moved.txt"]
    meta = _ingest(request, database)
    assert meta["quarantine"]["reasons"].value == {"outside input root": 1}
    assert [b.split()[1] for b in _bodies(database)] == ["moved"]
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles WHERE body LIKE '%private note%'").fetchone()[0] == 0
        assert con.execute("SELECT path, outcome, reason FROM input_files ORDER BY path").fetchall() == [
            (str(inbox / "link.txt"), "quarantined", "outside input root"),
            (str(inbox / "moved.txt"), "ingested", None),
        ]
    time.sleep(SETTLE)
    assert isinstance(tick(), dg.SkipReason)  # the link is not passed again while it is unchanged
