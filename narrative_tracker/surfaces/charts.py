"""Charts with Vega-Altair, rendered to PNG / SVG offline by vl-convert (no browser, no network).

Each function takes an open connection and returns an ``alt.Chart``; ``png_bytes`` / ``svg_text`` /
``markdown_image`` render it for files, HTML reports and Dagster metadata.

vl-convert aborts the whole process (a Rust panic, SIGABRT) on a control character, NUL or U+FFFE/U+FFFF in any
string it draws. Nothing stored today holds one (``narrative_tracker.textsafe``), but a value an older version
stored may: every frame is passed through ``textsafe.chart_frame`` before it becomes a chart.
"""

from __future__ import annotations

import base64
import datetime as dt

import altair as alt
import duckdb

from narrative_tracker import db, textsafe

WIDTH = 640
# Charts embed their data; long windows exceed Altair's default 5,000-row guard (a year of 15 narratives).
alt.data_transformers.disable_max_rows()


def share_over_time(con: duckdb.DuckDBPyConnection, end: dt.date | None = None, days: int = 90, top: int = 8) -> alt.Chart:
    """7-day share of the day's paragraphs for the ``top`` narratives of the window ending ``end``."""
    frame = textsafe.chart_frame(con.execute(db.query("chart_share_over_time"), {"end": end, "days": days, "top": top}).pl())
    return (
        alt.Chart(frame, title=f"Narrative share of paragraphs (7-day), last {days} days")
        .mark_line(interpolate="monotone")
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("share_7d:Q", title="share of the day's paragraphs (7-day)", axis=alt.Axis(format="%")),
            color=alt.Color("label:N", title="narrative", legend=alt.Legend(orient="bottom", columns=2, labelLimit=300)),
            tooltip=["day:T", "label:N", "paragraphs:Q", alt.Tooltip("share_7d:Q", format=".1%")],
        )
        .properties(width=WIDTH, height=260)
    )


def outlet_heatmap(con: duckdb.DuckDBPyConnection, end: dt.date | None = None, days: int = 30, narratives: int = 10, outlets: int = 15) -> alt.Chart:
    """Paragraphs per outlet and narrative in the window ending ``end``."""
    frame = textsafe.chart_frame(con.execute(db.query("chart_outlet_heatmap"), {"end": end, "days": days, "narratives": narratives, "outlets": outlets}).pl())
    return (
        alt.Chart(frame, title=f"Who carries what (paragraphs, last {days} days)")
        .mark_rect()
        .encode(
            x=alt.X("label:N", title=None, axis=alt.Axis(labelAngle=-35, labelLimit=180)),
            y=alt.Y("outlet:N", title=None, sort="-x", axis=alt.Axis(labelLimit=220)),
            color=alt.Color("paragraphs:Q", scale=alt.Scale(scheme="orangered"), title="paragraphs"),
            tooltip=["outlet:N", "label:N", "paragraphs:Q", "asserted:Q"],
        )
        .properties(width=WIDTH - 200, height=max(120, 18 * frame["outlet"].n_unique()) if frame.height else 120)
    )


def alerts_timeline(con: duckdb.DuckDBPyConnection, end: dt.date | None = None, days: int = 90) -> alt.Chart:
    """Spikes and emerging narratives in the window ending ``end``."""
    frame = textsafe.chart_frame(con.execute(db.query("chart_alerts"), {"end": end, "days": days}).pl())
    return (
        alt.Chart(frame, title=f"Alerts, last {days} days")
        .mark_point(filled=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=260)),
            size=alt.Size("paragraphs:Q", title="paragraphs"),
            color=alt.Color("kind:N", scale=alt.Scale(domain=["spike", "emerging"], range=["#d62728", "#1f77b4"])),
            tooltip=["day:T", "kind:N", "label:N", "message:N"],
        )
        .properties(width=WIDTH, height=max(80, 20 * frame["label"].n_unique()) if frame.height else 80)
    )


def png_bytes(chart: alt.Chart, scale: float = 1.5) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def svg_text(chart: alt.Chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


def markdown_image(chart: alt.Chart, alt_text: str = "chart") -> str:
    """A markdown image with the PNG inlined (how charts show in Dagster's metadata panel)."""
    return f"![{alt_text}](data:image/png;base64,{base64.b64encode(png_bytes(chart, scale=1.0)).decode()})"
