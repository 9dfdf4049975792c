"""The result model of a quality run, shared by the library, the app, the CLI and exports: one `CheckResult`
per check, a `QualityReport` per product (score, grade, blocking failures), a `MeshQualityReport` per mesh."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import polars as pl

from catalog.quality.scoring import FORMULA, Score, score_results


@dataclass
class CheckResult:
    """One check of one run: pass, fail or error, with the failing-row count and example failing rows."""

    name: str
    kind: str
    severity: str
    status: str  # "pass" | "fail" | "error"
    failing: int | None = None
    rows: int | None = None
    message: str = ""
    observed: Any = None  # row count, newest timestamp: what the check compared
    examples: list[dict[str, Any]] = field(default_factory=list)
    hidden: bool = False  # a sensitive check whose counts this viewer may not see (checks.sensitivity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QualityReport:
    """A product's quality run: every check result, the score and how the run went."""

    product_id: str
    version: str
    ts: str
    fingerprint: str | None
    checks: list[CheckResult]
    duration_ms: float
    rows: int | None = None
    reused: bool = False  # counts reused from a run on the same data (same fingerprint)

    @property
    def result(self) -> Score:
        return score_results(self.checks)

    @property
    def score(self) -> float | None:
        return self.result.value

    @property
    def grade(self) -> str | None:
        return self.result.grade

    @property
    def complete(self) -> bool:
        return self.result.complete

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def errored(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "error"]

    @property
    def blocking(self) -> list[CheckResult]:
        """Failed or errored checks of severity error: what fails a CI pipeline."""
        return [c for c in self.checks if c.status in ("fail", "error") and c.severity == "error"]

    formula = FORMULA

    def frame(self) -> pl.DataFrame:
        rows = [{"product_id": self.product_id, "check": c.name, "kind": c.kind, "severity": c.severity,
                 "status": c.status, "failing": c.failing, "rows": c.rows, "message": c.message} for c in self.checks]
        return pl.DataFrame(rows, schema={"product_id": pl.String, "check": pl.String, "kind": pl.String,
                                          "severity": pl.String, "status": pl.String, "failing": pl.Int64,
                                          "rows": pl.Int64, "message": pl.String})

    def summary(self) -> str:
        s = self.result
        head = f"{self.product_id}: score {s.label}"
        return (f"{head} · {len(self.checks) - len(self.failed) - len(self.errored)} passed, "
                f"{len(self.failed)} failed, {len(self.errored)} errored")

    def __repr__(self) -> str:
        return f"<QualityReport {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.summary()}</b><br><small>{FORMULA}</small></p>" + self.frame()._repr_html_()


@dataclass
class MeshQualityReport:
    """`mesh.check()` over every product: one QualityReport each."""

    reports: list[QualityReport]

    def __iter__(self) -> Iterator[QualityReport]:
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, product_id: str) -> QualityReport:
        return next(r for r in self.reports if r.product_id == product_id)

    @property
    def blocking(self) -> list[tuple[str, CheckResult]]:
        return [(r.product_id, c) for r in self.reports for c in r.blocking]

    def frame(self) -> pl.DataFrame:
        return pl.concat([r.frame() for r in self.reports]) if self.reports else QualityReport(
            "", "", "", None, [], 0).frame()

    def __repr__(self) -> str:
        return f"<MeshQualityReport {len(self.reports)} products, {len(self.blocking)} blocking failures>"
