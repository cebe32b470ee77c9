"""Live progress of a ``narratives run`` on the terminal: one line per Dagster step as it starts and ends.

A Dagster logger (``progress``) that prints only step events — ``[mm:ss] embeddings …`` when a step starts,
``[mm:ss] embeddings done in 12.3 s (4 of 14)`` when it ends — so a long run is never a silent minute, without
Dagster's full event log (``--verbose`` shows that). Inside the slow steps, tqdm bars show files ingested of N
and paragraphs embedded per second with an ETA (``NARRATIVES_PROGRESS``; on by default on a terminal).
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg


class _StepLines(logging.Handler):
    def __init__(self, steps: int, since: float = 0.0) -> None:
        super().__init__(level=logging.DEBUG)
        self.began = time.monotonic() - (max(0.0, time.time() - since) if since else 0.0)
        self.steps = steps
        self.done = 0

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or not event.step_key:
            return
        kind = event.event_type_value
        clock = time.strftime("%M:%S", time.gmtime(time.monotonic() - self.began))
        if kind == "STEP_START":
            line = f"      [{clock}] {event.step_key} …"
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            self.done += 1
            seconds = getattr(event.event_specific_data, "duration_ms", None)
            took = f" in {seconds / 1000:.1f} s" if seconds is not None else ""
            of = f" ({self.done} of {self.steps})" if self.steps else ""
            line = f"      [{clock}] {event.step_key} {'done' if kind == 'STEP_SUCCESS' else 'FAILED'}{took}{of}"
        else:
            return
        print(line, file=sys.stderr, flush=True)


@dg.logger(config_schema={"steps": dg.Field(int, default_value=0, description="steps in the run (0: unknown)"),
                          "since": dg.Field(float, default_value=0.0, description="epoch seconds the clock counts from "
                                            "(several runs of one command; 0: the run's start)")},
           description="One line per step start and end on stderr, with the run's elapsed time (narratives run).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("narratives.progress", level=logging.DEBUG)
    logger.addHandler(_StepLines(init_context.logger_config["steps"], init_context.logger_config["since"]))
    return logger


def step_count(job) -> int:
    """How many steps a run of the whole ``job`` executes (one per asset and per asset check), for "k of N"."""
    return len(job.get_job_snapshot().dep_structure_snapshot.node_invocation_snaps)
