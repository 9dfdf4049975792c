"""Usage metrics per product from the usage events governed sessions record.

Windows are the last `WINDOW_DAYS` days before `as_of` (default now): queries, distinct users
and consuming domains count inside the window; the trend compares it with the window before;
`unused_30d` is true when the product has not been queried in the last 30 days (or ever).
Every function takes the declared mesh and the successful usage events (`Evidence.events`), nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import polars as pl

from catalog.access.policy import Policy, product_for
from catalog.descriptors.declared import DeclaredMesh

WINDOW_DAYS = 30

USAGE_DEFINITION = (
    f"Usage counts successful queries in the last {WINDOW_DAYS} days: queries, distinct users and consuming "
    "domains (domains whose users queried the product, its own included). Trend = change against the "
    f"{WINDOW_DAYS} days before, in %. Unused = no query in the last {WINDOW_DAYS} days."
)

SCHEMA = {"product_id": pl.String, "domain": pl.String, "queries": pl.Int64, "users": pl.Int64,
          "consuming_domains": pl.Int64, "previous_queries": pl.Int64, "trend": pl.Float64,
          "trend_label": pl.String, "last_used": pl.Datetime("us", "UTC"), "total_queries": pl.Int64,
          "unused_30d": pl.Boolean}


def _as_of(as_of: datetime | None) -> datetime:
    moment = as_of or datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def trend_label(current: int, previous: int) -> str:
    """up / down / flat (within ±10 %), new (nothing before), stopped (nothing now), none."""
    if current == 0 and previous == 0:
        return "none"
    if previous == 0:
        return "new"
    if current == 0:
        return "stopped"
    change = (current - previous) / previous
    return "up" if change > 0.1 else "down" if change < -0.1 else "flat"


def usage_metrics(mesh: DeclaredMesh, events: pl.DataFrame, as_of: datetime | None = None,
                  product_id: str | None = None, policy: Policy | None = None) -> pl.DataFrame:
    """One row per product (every product, used or not; or only `product_id`): see the module docstring for the
    definitions. With a `policy`, the products its viewer may list (a hidden one is an unknown product)."""
    if policy is not None and product_id is not None:
        product_for(mesh, product_id, policy)
    now = _as_of(as_of)
    start, before = now - timedelta(days=WINDOW_DAYS), now - timedelta(days=2 * WINDOW_DAYS)
    frame = events.filter(pl.col("ts") <= now)
    if product_id is not None:
        frame = frame.filter(pl.col("product_id") == product_id)
    current = (frame.filter(pl.col("ts") > start).group_by("product_id")
               .agg(pl.len().alias("queries"), pl.col("user").n_unique().alias("users"),
                    pl.col("consumer_domain").drop_nulls().n_unique().alias("consuming_domains")))
    previous = (frame.filter((pl.col("ts") > before) & (pl.col("ts") <= start)).group_by("product_id")
                .agg(pl.len().alias("previous_queries")))
    overall = frame.group_by("product_id").agg(pl.col("ts").max().alias("last_used"),
                                                pl.len().alias("total_queries"))
    ids = sorted(mesh.products) if product_id is None else [product_id]
    if policy is not None:
        ids = [pid for pid in ids if policy.is_listed(pid)]
    products = pl.DataFrame({"product_id": ids, "domain": [mesh.products[p].domain for p in ids]},
                            schema={"product_id": pl.String, "domain": pl.String})
    out = (products.join(current, on="product_id", how="left").join(previous, on="product_id", how="left")
           .join(overall, on="product_id", how="left")
           .with_columns(pl.col("queries", "users", "consuming_domains", "previous_queries", "total_queries")
                         .fill_null(0).cast(pl.Int64)))
    out = out.with_columns(
        pl.when(pl.col("previous_queries") > 0)
        .then(((pl.col("queries") - pl.col("previous_queries")) / pl.col("previous_queries") * 100).round(1))
        .otherwise(None).alias("trend"),
        pl.struct("queries", "previous_queries").map_elements(
            lambda r: trend_label(r["queries"], r["previous_queries"]), return_dtype=pl.String).alias("trend_label"),
        (pl.col("queries") == 0).alias("unused_30d"),
    )
    return out.select(list(SCHEMA)).cast(SCHEMA)  # type: ignore[arg-type]


def daily_usage(mesh: DeclaredMesh, events: pl.DataFrame, product_id: str | None = None,
                as_of: datetime | None = None, days: int = 90, policy: Policy | None = None) -> pl.DataFrame:
    """Queries per product per day over the last `days` days (days without a query are absent); with a
    `policy`, of the products its viewer may list."""
    now = _as_of(as_of)
    frame = events.filter((pl.col("ts") > now - timedelta(days=days)) & (pl.col("ts") <= now))
    if policy is not None:
        if product_id:
            product_for(mesh, product_id, policy)
        frame = frame.filter(pl.col("product_id").is_in(list(policy.listed)))
    if product_id:
        frame = frame.filter(pl.col("product_id") == product_id)
    return (frame.with_columns(pl.col("ts").dt.truncate("1d").alias("day"))
            .group_by("product_id", "day").agg(pl.len().alias("queries"),
                                               pl.col("user").n_unique().alias("users"))
            .sort("product_id", "day"))


def weekly_usage(events: pl.DataFrame) -> pl.DataFrame:
    """week, measure (queries | users), count: usage events per week in long form, for a line chart."""
    weekly = (events.with_columns(pl.col("ts").dt.truncate("1w").alias("week"))
              .group_by("week").agg(queries=pl.len(), users=pl.col("user").n_unique()).sort("week"))
    return weekly.unpivot(index="week", on=["queries", "users"], variable_name="measure", value_name="count")


def consumers(events: pl.DataFrame) -> pl.DataFrame:
    """consuming domain, queries, users: who reads a product, the busiest consumer first."""
    return (events.group_by(pl.col("consumer_domain").fill_null("(unknown)").alias("consuming domain"))
            .agg(queries=pl.len(), users=pl.col("user").n_unique()).sort("queries", descending=True))
