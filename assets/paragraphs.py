"""Stage 2 asset: clean article bodies and split them into ``paragraphs``, per publication day."""


import dagster as dg

from assets.partitions import daily_asset, window_days
from assets.resources import NarrativeDB
from narrative_tracker.paragraphs.split import build_paragraphs
from narrative_tracker.surfaces.preview import markdown


@daily_asset(
    deps=["articles"],
    group_name="paragraphs",
    description="Cleaned paragraphs (boilerplate, captions, footnotes dropped). DDL: sql/schema/30_paragraphs.sql",
)
def paragraphs(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    start, end = window_days(context)
    with db.connect() as con:
        report = build_paragraphs(con, start, end)
        preview = con.execute(
            "SELECT p.partition_date, a.outlet, p.position, p.kind, p.text FROM paragraphs p JOIN articles a USING (article_id) "
            "WHERE p.partition_date BETWEEN $start AND $end ORDER BY p.partition_date, a.article_id, p.position LIMIT 10",
            {"start": start, "end": end},
        ).pl()
    meta = report.as_metadata()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.paragraphs,
            "first_day": str(start),
            "last_day": str(end),
            "articles": report.articles,
            "distinct_texts": report.distinct_texts,
            "articles_without_paragraphs": report.articles_without_paragraphs,
            "dropped_blocks": meta["dropped_blocks"],
            "preview": dg.MetadataValue.md(markdown(preview)),
        }
    )


@dg.asset_check(asset="paragraphs", blocking=True, description="No paragraph_id appears twice (re-materialising never duplicates).")
def paragraph_ids_unique(db: NarrativeDB) -> dg.AssetCheckResult:
    with db.connect() as con:
        dupes = con.execute(
            "SELECT count(*) FROM (SELECT paragraph_id FROM paragraphs GROUP BY paragraph_id HAVING count(*) > 1)"
        ).fetchone()[0]
    return dg.AssetCheckResult(passed=dupes == 0, metadata={"duplicated_ids": dupes})
