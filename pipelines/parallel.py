"""Planning a run's days: spans of days that hold articles, and ranges of days for parallel workers.

Spans: a run covers its days as contiguous partition ranges, and Dagster records every partition of a range, empty
or not (~7 ms a day in memory, ~45 ms recorded in SQLite, 2026-12-02). A corpus with one article undated (filed
under today) and the rest in 2020 would otherwise make a range of two thousand empty days, so
``narratives run`` processes the :func:`active_spans` one after the other when there are several.

Several ranges of days at once, on DuckLake with a PostgreSQL catalog (``narratives run --workers N``).

Each worker is its own process with its own Dagster run(s) over a contiguous share of those spans
(:func:`plan_workers`; not one process per day: a Dagster step costs about a second to start), materialising the daily assets only — ``paragraphs``,
``paragraph_embeddings``, ``codebook_assignments``. Their writes replace whole ranges through
``db.overwrite``, which retries DuckLake's transaction conflicts. The steps that cover every day run in the
parent, one after the other: ``codebook`` before the workers, then ``discovered_narratives`` (with lineage and
analyst decisions), ``paragraph_copies``, ``outlet_influence``, ``narrative_trends``, ``alerts``, ``search_index``,
``published_database`` after all of them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

WORKER_ASSETS = ("paragraphs", "paragraph_embeddings", "codebook_assignments")
BEFORE = ("codebook",)
AFTER = ("discovered_narratives", "paragraph_copies", "outlet_influence", "narrative_trends", "alerts", "search_index",
         "published_database")

# What one day costs a worker regardless of its articles, in articles: Dagster records a materialisation per
# partition and asset, ~49 ms a day against ~9 ms per short article on one core (the full EUvsDisinfo run with two
# workers on this 2-core machine, 2026-12-02: 1,591 days took 142.5 s, 645 days with as many claims 95.9 s).
# Cutting by articles alone gave the many-quiet-days range the longer run.
DAY_WEIGHT = 5.0


# An empty day inside a span costs ~45 ms (recorded in SQLite); another span costs three more Dagster runs, ~1.5 s
# each (the full EUvsDisinfo corpus as 3 spans, 2026-12-02: 10 more runs and 198 fewer days made it 6.5 s slower).
# The break-even gap is about 100 days: shorter gaps stay inside one span; a run has at most MAX_SPANS spans.
SPAN_GAP_DAYS = 120
MAX_SPANS = 8


def active_spans(days, max_gap: int | None = None, max_spans: int | None = None) -> list[tuple[dt.date, dt.date]]:
    """Contiguous ranges covering ``days`` (the days that hold articles), joined across gaps of at most ``max_gap``
    empty days (default ``SPAN_GAP_DAYS``); at most ``max_spans`` ranges (default ``MAX_SPANS``; the shortest gaps
    are joined first). Empty for no days."""
    max_gap = SPAN_GAP_DAYS if max_gap is None else max_gap
    max_spans = MAX_SPANS if max_spans is None else max_spans
    ordered = sorted(set(days))
    if not ordered:
        return []
    spans = [[ordered[0], ordered[0]]]
    for day in ordered[1:]:
        if (day - spans[-1][1]).days - 1 <= max_gap:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    while len(spans) > max(1, max_spans):
        i = min(range(len(spans) - 1), key=lambda k: (spans[k + 1][0] - spans[k][1]).days)
        spans[i][1] = spans[i + 1][1]
        del spans[i + 1]
    return [(a, b) for a, b in spans]


@dataclass
class WorkerResult:
    start: dt.date  # the first and last day of the worker's ranges
    end: dt.date
    success: bool
    seconds: float
    conflict_retries: int
    error: str = ""


def split_days(start: dt.date, end: dt.date, workers: int, weights: dict[dt.date, float] | None = None) -> list[tuple[dt.date, dt.date]]:
    """``workers`` contiguous ranges covering ``start``..``end``; with ``weights`` (the work of each day) cut so each
    range holds about the same weight, else the same number of days. Never an empty range."""
    if workers < 1:
        raise ValueError("workers must be >= 1")
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    workers = min(workers, len(days))
    if weights:
        total = sum(weights.get(d, 0) for d in days) or 1
        ranges, begin, acc = [], 0, 0
        for i, d in enumerate(days):
            acc += weights.get(d, 0)
            remaining_workers = workers - len(ranges) - 1
            if remaining_workers and acc >= total * (len(ranges) + 1) / workers and len(days) - (i + 1) >= remaining_workers:
                ranges.append((days[begin], d))
                begin = i + 1
        ranges.append((days[begin], days[-1]))
        return ranges
    size, extra = divmod(len(days), workers)
    ranges, begin = [], 0
    for w in range(workers):
        n = size + (1 if w < extra else 0)
        ranges.append((days[begin], days[begin + n - 1]))
        begin += n
    return ranges


def plan_workers(articles_per_day: dict[dt.date, int], workers: int) -> list[list[tuple[dt.date, dt.date]]]:
    """What each worker processes: the :func:`active_spans` of the days holding articles, cut into ``workers``
    contiguous shares of about equal work — a processed day weighs its articles plus ``DAY_WEIGHT``, a skipped
    empty day nothing — each share the list of its parts of the spans. Fewer shares when a cut would leave one
    with no processed day."""
    spans = active_spans(articles_per_day)
    if not spans:
        return []
    weights = {a + dt.timedelta(days=i): articles_per_day.get(a + dt.timedelta(days=i), 0) + DAY_WEIGHT
               for a, b in spans for i in range((b - a).days + 1)}
    plans = []
    for first, last in split_days(spans[0][0], spans[-1][1], workers, weights):
        parts = [(max(a, first), min(b, last)) for a, b in spans if a <= last and b >= first]
        if parts:
            plans.append(parts)
    return plans


def daily_runs(ranges: list[tuple[dt.date, dt.date]]) -> list[tuple[tuple[str, ...], dt.date, dt.date]]:
    """The runs that materialise the daily assets over ``ranges``, as ``(assets, first day, last day)``: one run of
    all of them for one range, else each asset over every range in turn (all paragraphs, then embeddings, then
    detection: the order of one run)."""
    if len(ranges) == 1:
        return [(WORKER_ASSETS, *ranges[0])]
    return [((asset,), first, last) for asset in WORKER_ASSETS for first, last in ranges]


def _worker(settings, run_config: dict, ranges: list[tuple[dt.date, dt.date]]) -> WorkerResult:
    """The :func:`daily_runs` over ``ranges``, in a fresh process."""
    import warnings

    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    from narrative_tracker import warehouse
    from pipelines.definitions import build_definitions
    from pipelines.run import dagster_instance, execute_assets

    began = time.perf_counter()
    job, instance = build_definitions(settings).resolve_job_def("narratives_job"), dagster_instance(settings)
    errors = []
    for assets, start, end in daily_runs(ranges):
        result = execute_assets(settings, job, assets, run_config, instance, start, end)
        if not result.success:
            failures = [e for e in result.all_events if e.is_step_failure]
            errors.append("; ".join(f"{e.step_key}: {e.step_failure_data.error.message.strip()[:300]}" for e in failures) or "run failed")
            break
    return WorkerResult(ranges[0][0], ranges[-1][1], not errors, time.perf_counter() - began, warehouse.conflict_retries(),
                        "; ".join(errors))


def run_workers(settings, run_config: dict, plans: list[list[tuple[dt.date, dt.date]]]) -> list[WorkerResult]:
    """Run the daily assets over each plan (a worker's ranges, :func:`plan_workers`) in its own process, all at once;
    results in plan order. ``settings`` (``narrative_tracker.settings.Settings``) configure the workers' resources."""
    context = multiprocessing.get_context("spawn")  # no fork after torch / DuckDB threads started
    with ProcessPoolExecutor(max_workers=len(plans), mp_context=context) as pool:
        futures = [pool.submit(_worker, settings, run_config, plan) for plan in plans]
        return [f.result() for f in futures]
