"""The desk's daily report as an asset: after every publish, the HTML report of the latest day (``narratives report``).

``daily_report`` reads only the published copy (never the working file), so it needs no pool and never waits for a
writer. It is not part of the jobs (``narratives run`` leaves reports to ``narratives report``); in the UI its
automation condition (eager: after ``published_database`` updates) makes the ``publish_after_changes`` sensor
write it after each publish.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.resources import NarrativeDB, ReportFolder
from narrative_tracker import db as dbq
from narrative_tracker.surfaces.preview import markdown
from narrative_tracker.surfaces.report import write_report


@dg.asset(
    deps=["published_database"],
    group_name="publish",
    automation_condition=dg.AutomationCondition.eager(),
    description="The daily HTML report of the latest publication day (the week ending it: narratives, evidence, "
                "alerts, charts), written from the published copy to `report-<day>.html` in the report folder "
                "(NARRATIVES_REPORT_DIR, default `<database>.reports/` beside the database). Shows the file, the day, "
                "its narratives and its new and spiking narratives. Follows every publish (publish_after_changes sensor).",
)
def daily_report(context: dg.AssetExecutionContext, db: NarrativeDB, reports: ReportFolder) -> dg.MaterializeResult:
    with dbq.connection(db.path, read_only=True) as con:
        day = con.execute(
            "SELECT coalesce(max(a.published_date), max(p.partition_date)) FROM paragraphs p JOIN articles a USING (article_id)"
        ).fetchone()[0]
        summary = con.execute(dbq.query("report_day_summary"), {"day": day}).pl() if day else None
    if day is None:
        return dg.MaterializeResult(metadata={"report": "no paragraphs published yet: nothing to report"})
    if not reports.path:
        return dg.MaterializeResult(metadata={"day": str(day), "report": "not written: set NARRATIVES_REPORT_DIR "
                                              "(a DuckLake on PostgreSQL has no folder beside it)"})
    out = write_report(db.path, Path(reports.path) / f"report-{day.isoformat()}.html", day=day)
    alerts = summary.filter(summary["alert"].is_not_null())
    return dg.MaterializeResult(metadata={
        "day": str(day),
        "report": dg.MetadataValue.path(str(out.resolve())),
        "narratives_that_day": dg.MetadataValue.md(markdown(summary.drop("alert"), max_rows=15, max_chars=80)),
        "new_narratives": ", ".join(alerts.filter(alerts["alert"] == "emerging")["narrative_id"].to_list()) or "none",
        "spiking_narratives": ", ".join(alerts.filter(alerts["alert"] == "spike")["narrative_id"].to_list()) or "none",
        "written_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    })
