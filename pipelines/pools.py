"""Pool slots held by runs whose process is gone: found, freed, and never waited on in silence.

Every writing step is in a Dagster pool (``duckdb_writer``, limit 1). A step claims the pool's slot in the instance
before it starts and frees it when it ends — unless its process dies first (``kill -9``, an OOM kill, a native
crash, power loss). Then the slot stays claimed by a run that will never finish, and every later run's first
pooled step waits for it forever (Dagster's ``InstanceConcurrencyContext.claim``, silently). Dagster's run
monitoring frees the slots of runs that *ended* (``free_slots_after_run_end_seconds`` in dagster.yaml) but cannot
tell that a run still marked STARTED has no process left: runs ``narratives run`` executes in its own process,
and runs of ``dagster dev``'s default launcher, are not watched.

:func:`release_dead_holders` does: for each claimed slot it looks up the holding step's process — the ``pid`` of
that step's ``STEP_START`` event — and when the process no longer exists (or the pid now belongs to a process
started after the step), it marks the run failed, saying why, and frees its slots. A run that already finished
has its leftover slots freed too. Runs on other machines cannot be checked from here, so this is only done where
every run shares this machine: a DuckDB file or a DuckLake catalog file (``local=True``); on a PostgreSQL lake the
holders are reported, not freed (Dagster's run monitoring with a launcher that checks run workers, e.g. the
Kubernetes one, frees those).

``narratives run`` calls :func:`wait_for_pools` before each Dagster run: a slot held by a live run makes it print
which run (job, step, process, since when) holds which pool and how to free it, again every minute, until the
slot is free; a slot of a dead run is freed with a line saying so. The ``pool_slots`` sensor of the code location
(``pipelines/definitions.py``) does the same for the UI, the schedules and the sensors: every 30 s it frees the
slots of dead runs and writes on each waiting run's log what it waits for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Iterable

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
HOW_TO_FREE = ("stop that run (Ctrl-C in its terminal, or Terminate on its page in the UI); if its process is "
               "gone, the next `narratives run` or the pool_slots sensor frees the slot, or free it by hand on the "
               "UI's Deployment → Concurrency page")


@dataclasses.dataclass(frozen=True)
class Holder:
    """A claimed slot: the pool, the run and step holding it, the step's process and whether it still exists."""

    pool: str
    run_id: str
    step_key: str
    job_name: str
    status: str  # the run's status (STARTED, FAILURE, ...), or MISSING when the run is not in the instance
    pid: int | None
    since: float | None  # when the step started (epoch seconds)
    alive: bool | None  # None: cannot tell (no pid recorded, or not checkable from here)

    def describe(self) -> str:
        since = (dt.datetime.fromtimestamp(self.since, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
                 if self.since else "an unknown time")
        process = f"process {self.pid}" if self.pid else "an unknown process"
        state = {True: "still running", False: "no longer running", None: "not checkable from here"}[self.alive]
        return (f"pool `{self.pool}` is held by run {self.run_id[:8]} ({self.job_name}, step {self.step_key}, "
                f"{process} since {since}, {state}; run status {self.status})")


def pool_infos(instance, pools: Iterable[str] | None = None):
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    names = sorted(pools) if pools is not None else sorted(storage.get_concurrency_keys())
    return [storage.get_concurrency_info(name) for name in names]


def holders(instance, pools: Iterable[str] | None = None, local: bool = True) -> list[Holder]:
    """Every claimed slot of ``pools`` (default: every pool of the instance). ``local``: the holders' processes
    run on this machine, so their liveness can be checked here."""
    from dagster import DagsterEventType

    found = []
    for info in pool_infos(instance, pools):
        for slot in info.claimed_slots:
            run = instance.get_run_by_id(slot.run_id)
            pid = since = None
            records = instance.get_records_for_run(slot.run_id, of_type=DagsterEventType.STEP_START).records
            for record in records:
                if record.event_log_entry.step_key == slot.step_key:
                    pid, since = record.event_log_entry.dagster_event.pid, record.event_log_entry.timestamp
            if pid is None and records:  # the step claimed its slot but has not started: its run's process
                pid, since = records[-1].event_log_entry.dagster_event.pid, records[-1].event_log_entry.timestamp
            status = run.status.value if run else "MISSING"
            alive = None
            if status in FINISHED or status == "MISSING":
                alive = False
            elif local and pid:
                alive = process_alive(pid, since)
            found.append(Holder(info.concurrency_key, slot.run_id, slot.step_key, run.job_name if run else "?",
                                status, pid, since, alive))
    return found


def process_alive(pid: int, started_before: float | None = None) -> bool:
    """Whether process ``pid`` exists on this machine and (when known) is the one that was running at
    ``started_before`` (epoch seconds), not a later process that got the same pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, another user's
    if started_before is None:
        return True
    began = _process_start(pid)
    return began is None or began <= started_before + 1.0


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), from /proc on Linux; None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration, IndexError):
        return None


def release_dead_holders(instance, pools: Iterable[str] | None = None, local: bool = True,
                         say: Callable[[str], None] = print) -> list[Holder]:
    """Free the slots of runs that finished or whose process is gone (marking a run still STARTED as failed, with
    the reason on its page). Returns the holders released."""
    released = []
    for holder in holders(instance, pools, local):
        if holder.alive is not False:
            continue
        run = instance.get_run_by_id(holder.run_id)
        if run is not None and not run.is_finished:
            instance.report_run_failed(
                run, f"The process of this run ({holder.pid}) is gone (killed or crashed) while step "
                     f"{holder.step_key} held a slot of pool `{holder.pool}`: marked failed and its slots freed so "
                     "later runs do not wait for it. Re-run it to finish its work (committed work is kept).")
        instance.event_log_storage.free_concurrency_slots_for_run(holder.run_id)
        say(f"      freed {holder.describe()}")
        released.append(holder)
    return released


def full_pools(instance, pools: Iterable[str], local: bool = True) -> list[Holder]:
    """The holders of every pool of ``pools`` that has no free slot (claimed slots >= its limit)."""
    blocking = []
    for info in pool_infos(instance, pools):
        held = holders(instance, [info.concurrency_key], local)
        if info.limit is not None and held and len(held) >= info.limit:
            blocking.extend(held)
    return blocking


def wait_for_pools(instance, pools: Iterable[str], local: bool = True, say: Callable[[str], None] = print,
                   poll: float = 2.0, remind: float = 60.0, timeout: float | None = None) -> float:
    """Return once every pool of ``pools`` has a free slot: slots of dead runs are freed at once; while live runs
    fill a pool, say what is held, by which run and how to free it (again every ``remind`` seconds) and wait.
    Returns the seconds waited; raises ``TimeoutError`` after ``timeout`` seconds (None: as long as it takes)."""
    pools = sorted(set(pools))
    began = time.monotonic()
    said = None
    while True:
        release_dead_holders(instance, pools, local, say)
        live = full_pools(instance, pools, local)
        if not live:
            return time.monotonic() - began
        waited = time.monotonic() - began
        if timeout is not None and waited > timeout:
            raise TimeoutError("; ".join(h.describe() for h in live))
        if said is None or time.monotonic() - said >= remind:
            say(f"      waiting ({waited:.0f} s so far): " + "; ".join(h.describe() for h in live)
                + f". To go on now, {HOW_TO_FREE}.")
            said = time.monotonic()
        time.sleep(poll)


def waiting_steps(instance, local: bool = True) -> list[tuple[object, str, list[Holder]]]:
    """``(run, step_key, holders)`` for every step of an unfinished run that waits for a slot another run holds."""
    found = []
    for info in pool_infos(instance):
        held = holders(instance, [info.concurrency_key], local)
        if not held:
            continue
        for step in info.pending_steps:
            run = instance.get_run_by_id(step.run_id)
            if run is not None and not run.is_finished:
                found.append((run, step.step_key, held))
    return found


def job_pools(job) -> set[str]:
    """The pools the ops of ``job`` claim slots in."""
    return {op.pool for op in job.graph.iterate_op_defs() if op.pool}
