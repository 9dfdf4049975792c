"""Upstream incidents: the open incidents of the products a product reads, directly or not, nearest first;
what a downstream owner sees as the root cause of their own trouble."""

from __future__ import annotations

import polars as pl

from catalog.access.policy import Policy
from catalog.incidents.desk import IncidentDesk
from catalog.lineage.graph import LineageIndex, upstream_distances


def upstream_incidents(desk: IncidentDesk, index: LineageIndex, product_ids: list[str],
                       policy: Policy | None = None) -> pl.DataFrame:
    """Open incidents upstream of any of `product_ids`, with the downstream product they affect (`affects`)
    and the hop count (`distance`); only upstream products `policy`'s viewer sees in full."""
    affects: dict[str, tuple[str, int]] = {}
    for pid in product_ids:
        for up, distance in upstream_distances(index, pid).items():
            if up in desk.mesh.products and (up not in affects or distance < affects[up][1]):
                affects[up] = (pid, distance)
    frame = desk.incidents("open", product_ids=list(affects), policy=policy)
    return frame.with_columns(
        pl.col("product_id").replace_strict({u: a for u, (a, _) in affects.items()}, default=None,
                                            return_dtype=pl.String).alias("affects"),
        pl.col("product_id").replace_strict({u: d for u, (_, d) in affects.items()}, default=None,
                                            return_dtype=pl.Int64).alias("distance")).sort("distance", "id")
