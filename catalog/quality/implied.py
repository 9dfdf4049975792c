"""Checks a product's contract implies without declaring them: its SLA's freshness, measured on the data.

A product whose SLA names a freshness window and a timestamp column promises that its newest row is younger
than the window, so every run checks it in the one scan (`now - max(column)`), even when no `freshness`
check is declared. With no timestamp column the only evidence is when the source last changed: that check is
judged by file time, and says so. The implied checks are ordinary `FreshnessCheck`s appended after the
declared ones, so compiling, judging, storing and redacting treat them like any other.
"""

from __future__ import annotations

from catalog.descriptors.model import CheckBase, DataProduct, FreshnessCheck
from catalog.numbers import hours_text

SLA_FRESHNESS = "freshness SLA"
FILE_TIME_FRESHNESS = "freshness SLA (by file time)"


def implied_checks(product: DataProduct) -> list[FreshnessCheck]:
    """The SLA's freshness check on its timestamp column, unless a declared freshness check covers it."""
    sla = product.descriptor.sla
    if not sla.freshness_hours or not sla.timestamp_column:
        return []
    if any(c.check == "freshness" for c in product.descriptor.quality):
        return []
    return [FreshnessCheck(check="freshness", name=SLA_FRESHNESS, severity="warning",
                           description=f"implied by the SLA: newest {sla.timestamp_column} within "
                                       f"{hours_text(sla.freshness_hours)}")]


def effective_checks(product: DataProduct) -> list[CheckBase]:
    """What a run checks: the declared checks, then the implied ones (in that order, so indices of declared
    checks stay what the descriptor says)."""
    implied = implied_checks(product)
    return [*product.descriptor.quality, *implied] if implied else list(product.descriptor.quality)


def checked(product: DataProduct) -> DataProduct:
    """The product as a run sees it: its descriptor's checks replaced by the effective ones (a copy; the
    loaded product is never changed)."""
    checks = effective_checks(product)
    if len(checks) == len(product.descriptor.quality):
        return product
    descriptor = product.descriptor.model_copy(update={"quality": checks})
    return product.model_copy(update={"descriptor": descriptor})


def judged_by_file_time(product: DataProduct) -> bool:
    """An SLA with a freshness window and no timestamp column: only the source's change time can judge it."""
    sla = product.descriptor.sla
    return bool(sla.freshness_hours) and not sla.timestamp_column and not any(
        c.check == "freshness" for c in product.descriptor.quality)
