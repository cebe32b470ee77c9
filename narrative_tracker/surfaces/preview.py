"""Small markdown previews of query results (Dagster metadata, CLI summaries), rendered by polars."""

from __future__ import annotations

import polars as pl


def markdown(frame: pl.DataFrame, max_rows: int = 10, max_chars: int = 90) -> str:
    """A markdown table of the first ``max_rows`` rows, long strings cut to ``max_chars``."""
    if frame.height == 0:
        return "_no rows_"
    shown = frame.head(max_rows).with_columns(
        pl.col(c).cast(pl.String).str.slice(0, max_chars) for c in frame.columns
    )
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=max_rows,
        tbl_cols=-1,
        fmt_str_lengths=max_chars + 5,
        tbl_width_chars=10_000,
    ):
        return str(shown)


def short(text: str | None, limit: int = 160) -> str:
    """``text`` on one line, cut to ``limit`` characters (with an ellipsis when cut)."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
