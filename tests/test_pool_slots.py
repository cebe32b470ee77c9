"""A run killed inside a pooled step must not make every later run wait forever (issue 27, defect 13).

The killed run's ``duckdb_writer`` slot stays claimed in the Dagster instance; before ``pipelines/pools.py`` the
next run's first pooled step spun in Dagster's ``InstanceConcurrencyContext.claim`` for good, saying nothing.
Now ``narratives run`` frees the slot of a run whose process is gone (marking that run failed) and says so, and
the ``pool_slots`` sensor does the same for runs the UI, schedules and sensors start.
"""

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
from conftest import REPO, SAMPLE

POOL = "duckdb_writer"

SLOW_JOB = """
import sys, time
import dagster as dg

@dg.asset(pool="duckdb_writer")
def slow():
    time.sleep(float(sys.argv[2]))

instance = dg.DagsterInstance.from_config(sys.argv[1])
result = dg.Definitions(assets=[slow]).resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
print("done", result.success, flush=True)
"""


def _instance(home):
    from pipelines.run import INSTANCE_YAML

    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(INSTANCE_YAML)
    return dg.DagsterInstance.from_config(str(home))


def _claimed(instance):
    return instance.event_log_storage.get_concurrency_info(POOL).claimed_slots


def _kill_once_claimed(proc, instance, timeout=600.0):
    """SIGKILL ``proc`` as soon as it holds the pool's slot (inside the pooled step); return the holding run id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        slots = _claimed(instance) if instance.event_log_storage.supports_global_concurrency_limits else []
        if slots:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return slots[0].run_id
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the run never claimed the pool slot")


def test_the_pool_slots_sensor_frees_the_slot_of_a_killed_run(tmp_path):
    from pipelines.definitions import pool_slots

    instance = _instance(tmp_path / "home")
    script = tmp_path / "slow_job.py"
    script.write_text(SLOW_JOB)
    killed = subprocess.Popen([sys.executable, str(script), str(tmp_path / "home"), "600"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    run_id = _kill_once_claimed(killed, instance)
    assert [s.run_id for s in _claimed(instance)] == [run_id]  # the dead run still holds the slot
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED

    result = pool_slots(dg.build_sensor_context(instance=instance))
    assert "freed 1 slot" in result.skip_message
    assert _claimed(instance) == []
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    failure = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
    assert "is gone" in failure.event_log_entry.message and POOL in failure.event_log_entry.message

    # the next run gets the slot and completes (before the fix it waited for good: a timeout here)
    again = subprocess.run([sys.executable, str(script), str(tmp_path / "home"), "0"], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
    assert "done True" in again.stdout, again.stdout + again.stderr


def test_a_live_holder_is_named_not_freed(tmp_path):
    """A slot held by a run whose process still runs is left alone; the waiting side says who holds it and how to
    free it, instead of waiting in silence."""
    from pipelines import pools

    instance = _instance(tmp_path / "home")
    script = tmp_path / "slow_job.py"
    script.write_text(SLOW_JOB)
    holder = subprocess.Popen([sys.executable, str(script), str(tmp_path / "home"), "600"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 600
        while not _claimed(instance):
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.2)
        assert pools.release_dead_holders(instance, [POOL], say=lambda _: None) == []
        lines = []
        with pytest.raises(TimeoutError):
            pools.wait_for_pools(instance, [POOL], say=lines.append, poll=0.2, timeout=1.0)
        assert len(lines) == 1 and f"pool `{POOL}` is held by run" in lines[0] and "still running" in lines[0]
        assert f"process {holder.pid}" in lines[0] and "Terminate" in lines[0]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_narratives_run_killed_inside_a_pooled_step_then_the_next_run_completes(tmp_path):
    """The real CLI with its run history beside the database: kill -9 while the ingest step holds the slot, then
    the next `narratives run` frees it, says so, and finishes."""
    db = tmp_path / "desk.duckdb"
    one_file = str(SAMPLE / "000_c0d7018fb3238484.txt")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore", NARRATIVES_RUN_HISTORY="beside")
    env.pop("DAGSTER_HOME", None)

    def cli():
        return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--input", one_file, "--db", str(db)],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    first = cli()
    line = first.stdout.readline()  # printed once the CLI has created its instance, before the ingest run starts
    assert line.startswith("[1/2] ingest"), line + first.stdout.read()
    instance = dg.DagsterInstance.from_config(str(tmp_path / "desk.dagster"))
    run_id = _kill_once_claimed(first, instance)

    second = cli()
    try:
        out, _ = second.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        second.kill()
        raise AssertionError("the next run waited for the dead run's slot: " + second.communicate()[0][-2000:]) from None
    assert second.returncode == 0, out
    assert f"freed pool `{POOL}` is held by run {run_id[:8]}" in out and "no longer running" in out
    assert _claimed(instance) == []
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
