"""Stage 5 assets: the trend views (daily shares, outlets, first seen) and alerts on spikes and new narratives."""

import dagster as dg

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker import db as dbq
from narrative_tracker.narratives.alerts import compute_alerts
from narrative_tracker.surfaces import charts
from narrative_tracker.surfaces.preview import markdown


@dg.asset(
    deps=["discovered_narratives", "codebook_assignments", "paragraph_copies"],
    pool=DUCKDB_POOL,
    group_name="trends",
    description="The trend views analysts query (narrative_daily: paragraphs and share per narrative and day; "
                "narrative_outlets; narrative_first_seen; views, so always current; DDL in sql/schema/90_views.sql). "
                "Shows who first pushed each narrative, the busiest days and two charts.",
)
def narrative_trends(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    with db.connect() as con:
        share_chart = charts.markdown_image(charts.share_over_time(con), "narrative share over time")
        outlet_chart = charts.markdown_image(charts.outlet_heatmap(con), "outlets x narratives")
        first_seen = con.execute(
            "SELECT narrative_id, label, origin, parent_narrative_id AS inside, first_seen, first_outlet, paragraphs, articles, "
            "outlets FROM narrative_first_seen ORDER BY paragraphs DESC LIMIT 15"
        ).pl()
        busiest = con.execute(
            "SELECT day, narrative_id, paragraphs, round(share, 3) AS share, round(share_7d, 3) AS share_7d "
            "FROM narrative_daily WHERE paragraphs > 0 ORDER BY paragraphs DESC, day LIMIT 10"
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "narratives_seen": first_seen.height,
            "first_seen": dg.MetadataValue.md(markdown(first_seen, max_rows=15)),
            "busiest_days": dg.MetadataValue.md(markdown(busiest)),
            "share_over_time": dg.MetadataValue.md(share_chart),
            "outlet_heatmap": dg.MetadataValue.md(outlet_chart),
        }
    )


@dg.asset(
    deps=["narrative_trends"],
    pool=DUCKDB_POOL,
    group_name="trends",
    description="Spikes (a narrative's share of the day well above its last 28 days) and emerging narratives (new, "
                "growing): the `alerts` table, recomputed over every day (method: sql/queries/compute_alerts.sql). "
                "Shows the new and spiking narratives of the latest days with alerts, and a timeline.",
    check_specs=[dg.AssetCheckSpec(
        "no_recent_alerts", asset="alerts",
        description="Warns (WARN, never fails a run) when the last three days held raised spike or emerging-narrative "
                    "alerts, listing them, so the asset shows a warning badge a desk notices.",
    )],
)
def alerts(context: dg.AssetExecutionContext, db: NarrativeDB):
    with db.connect() as con:
        total = compute_alerts(con)
        timeline = charts.markdown_image(charts.alerts_timeline(con), "alerts")
        by_day = con.execute(dbq.query("alerts_by_day"), {"days": 10}).pl()
        recent = con.execute(
            "SELECT day, kind, narrative_id, parent_narrative_id AS inside, paragraphs, round(share, 2) AS share, message "
            "FROM alerts ORDER BY day DESC, kind LIMIT 10"
        ).pl()
        last = con.execute("SELECT max(partition_date) FROM paragraphs").fetchone()[0]
        latest = con.execute(
            "SELECT message FROM alerts WHERE day >= $d - INTERVAL 2 DAY ORDER BY day DESC, kind LIMIT 20", {"d": last}
        ).fetchall() if last else []
    yield dg.MaterializeResult(
        metadata={"dagster/row_count": total,
                  "new_and_spiking_by_day": dg.MetadataValue.md(markdown(by_day, max_rows=10, max_chars=200)),
                  "latest": dg.MetadataValue.md(markdown(recent, max_rows=10, max_chars=140)),
                  "timeline": dg.MetadataValue.md(timeline)}
    )
    yield dg.AssetCheckResult(
        check_name="no_recent_alerts",
        passed=not latest,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"recent_alerts": len(latest),
                  "alerts": dg.MetadataValue.md("\n".join(f"- {r[0]}" for r in latest) or "_none_")},
    )
