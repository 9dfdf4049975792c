"""Tables as a person reads them, not as the database stores them: headers in words ("checks passing", not
`checks_passing`), dates without a 00:00:00 time, timestamps to the minute, and an empty cell instead of
"None". Only what is drawn changes: exports and the frames the library returns stay exact."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

DATE_FORMAT = "YYYY-MM-DD"
TIME_FORMAT = "YYYY-MM-DD HH:mm"
EMPTY = "–"

HEADERS = {"product_id": "product", "checks_passing": "checks passing", "checks_failed": "failing",
           "checks_errored": "errored", "score_trend": "trend (30 d)", "queries": "queries (30 d)",
           "users": "users (30 d)", "consuming_domains": "consuming domains", "usage_trend": "usage",
           "unused_30d": "unused 30 d", "upstream_issues": "upstream issues", "policies_failed": "policies failed",
           "lineage_issues": "lineage issues", "checked_at": "checked", "mean_score": "mean score",
           "unmasked_roles": "roles seeing it unmasked", "unmasked_users": "people with a PII grant",
           "unmasked_people": "people holding those roles", "pii_columns": "PII columns",
           "pii_unmasked": "PII unmasked", "unused_products": "unused", "open_incidents": "incidents",
           "agreements_held": "agreements", "from_state": "from", "to_state": "to", "ts": "when"}


def header(name: str) -> str:
    """`checks_passing` -> 'checks passing' (known columns get a shorter, clearer word)."""
    return HEADERS.get(name, name.replace("_", " "))


def _looks_like_time(name: str) -> bool:
    return name == "ts" or name.endswith("_at")


def readable(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame to draw: ISO timestamp text in `*_at`/`ts` columns parsed, empty text shown as '–'."""
    out = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.String and _looks_like_time(name):
            out.append(column.str.to_datetime(time_zone="UTC", strict=False).alias(name))
        elif dtype == pl.String:
            out.append(column.fill_null(EMPTY))
        else:
            out.append(column)
    return frame.select(out) if frame.width else frame


def column_config(frame: pl.DataFrame, human: bool = True) -> dict[str, Any]:
    """Streamlit column settings: words for headers (with `human`), dates and times formatted."""
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        label = header(name) if human else name
        if dtype == pl.Date:
            config[name] = st.column_config.DateColumn(label, format=DATE_FORMAT)
        elif isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(label, format=TIME_FORMAT)
        elif human:
            config[name] = st.column_config.Column(label)
    return config


def show_table(frame: pl.DataFrame, human: bool = True, config: dict[str, Any] | None = None, **options: Any):
    """`st.dataframe` of `frame` as a person reads it; `config` overrides a column's settings."""
    shown = readable(frame)
    settings = {**column_config(shown, human), **(config or {})}
    return st.dataframe(shown, column_config=settings, **{"width": "stretch", "hide_index": True, **options})
