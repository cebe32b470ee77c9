"""Stage 2 asset: clean article bodies and split them into ``paragraphs``, per publication day."""

import dagster as dg

from assets.partitions import daily_asset, record_days, run_range, window_days
from assets.resources import NarrativeDB
from narrative_tracker import db as dbq
from narrative_tracker.paragraphs.split import build_paragraphs
from narrative_tracker.surfaces.preview import short

PREVIEW_PER_DAY = 3


@daily_asset(
    deps=["articles"],
    group_name="paragraphs",
    description="The day's articles cleaned (boilerplate, captions, footnotes dropped) and split into paragraphs, one "
                "row each (`paragraphs`, DDL: sql/schema/30_paragraphs.sql). Each day shows its articles, outlets, "
                "paragraphs and its first paragraphs; re-materialising a day replaces its rows.",
    check_specs=[dg.AssetCheckSpec(
        "paragraph_ids_unique", asset="paragraphs", blocking=True,
        description="No paragraph_id appears twice in the whole table: re-materialising a day never duplicates. "
                    "Blocking: embeddings and detection wait for it and do not run when it fails.",
    )],
)
def paragraphs(context: dg.AssetExecutionContext, db: NarrativeDB):
    start, end = window_days(context)
    span = {"start": start, "end": end}
    with db.connect() as con:
        report = build_paragraphs(con, start, end)
        days = con.execute(dbq.query("day_paragraphs"), span).fetchall()
        previews: dict = {}
        for day, outlet, text in con.execute(dbq.query("day_paragraph_preview"), span | {"per_day": PREVIEW_PER_DAY}).fetchall():
            previews.setdefault(day, []).append(f"- *{outlet or 'unknown outlet'}*: {short(text)}")
        dupes = con.execute(
            "SELECT count(*) FROM (SELECT paragraph_id FROM paragraphs GROUP BY paragraph_id HAVING count(*) > 1)"
        ).fetchone()[0]
    per_day = {
        day: {"dagster/row_count": paragraphs_, "articles": articles, "outlets": outlets,
              "articles_without_paragraphs": without,
              "first_paragraphs": dg.MetadataValue.md("\n".join(previews.get(day, [])) or "_none_")}
        for day, articles, outlets, paragraphs_, without in days
    }
    meta = report.as_metadata()
    record_days(context, per_day, {"dagster/row_count": 0, "articles": 0, "outlets": 0, "articles_without_paragraphs": 0},
                {**run_range(start, end), "run_paragraphs": report.paragraphs, "run_dropped_blocks": meta["dropped_blocks"]})
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(check_name="paragraph_ids_unique", passed=dupes == 0, metadata={"duplicated_ids": dupes})

