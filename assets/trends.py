"""Stage 5 assets: the trend views (daily shares, outlets, first seen) and alerts on spikes and new narratives."""

import dagster as dg

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker.narratives.alerts import compute_alerts
from narrative_tracker.surfaces import charts
from narrative_tracker.surfaces.preview import markdown


@dg.asset(
    deps=["discovered_narratives", "codebook_assignments", "paragraph_copies"],
    pool=DUCKDB_POOL,
    group_name="trends",
    description="The trend views (narrative_daily, narrative_outlets, narrative_first_seen; DDL in sql/schema/90_views.sql).",
)
def narrative_trends(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    with db.connect() as con:
        share_chart = charts.markdown_image(charts.share_over_time(con), "narrative share over time")
        outlet_chart = charts.markdown_image(charts.outlet_heatmap(con), "outlets x narratives")
        first_seen = con.execute(
            "SELECT narrative_id, label, origin, first_seen, first_outlet, paragraphs, articles, outlets "
            "FROM narrative_first_seen ORDER BY paragraphs DESC LIMIT 15"
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
    description="Spikes and emerging narratives (alerts table; method in sql/queries/compute_alerts.sql).",
)
def alerts(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    with db.connect() as con:
        total = compute_alerts(con)
        timeline = charts.markdown_image(charts.alerts_timeline(con), "alerts")
        recent = con.execute(
            "SELECT day, kind, narrative_id, paragraphs, round(share, 2) AS share, message FROM alerts ORDER BY day DESC, kind LIMIT 10"
        ).pl()
    return dg.MaterializeResult(
        metadata={"dagster/row_count": total, "latest": dg.MetadataValue.md(markdown(recent, max_rows=10, max_chars=140)),
                  "timeline": dg.MetadataValue.md(timeline)}
    )


@dg.asset_check(asset=alerts, description="Warns in the UI when the last three days raised spike or emerging-narrative alerts.")
def no_recent_alerts(db: NarrativeDB) -> dg.AssetCheckResult:
    with db.connect() as con:
        last = con.execute("SELECT max(partition_date) FROM paragraphs").fetchone()[0]
        rows = con.execute(
            "SELECT message FROM alerts WHERE day >= $d - INTERVAL 2 DAY ORDER BY day DESC, kind LIMIT 20", {"d": last}
        ).fetchall() if last else []
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"recent_alerts": len(rows), "alerts": dg.MetadataValue.md("\n".join(f"- {r[0]}" for r in rows) or "_none_")},
    )
