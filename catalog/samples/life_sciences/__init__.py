"""Life-sciences sample mesh: trials, labs and adverse events shared with research partners.

Seeded defects (exact counts at every scale; `DEFECTS` is the list tests rely on):
- clinical.patients: 3 patient_ids occur twice (`patient_id unique` fails).
- clinical.visits: 5 systolic blood pressures of 999, the cuff's error code (`systolic_bp in range` fails).
- lab.samples: 8 samples name patients that do not exist
  (`patient_id references clinical.patients` fails: a cross-domain reference).
- safety.adverse_events: 5 NULL severity grades (`severity_grade not null` fails).
- research.genomic_variants: stale on purpose: partner deliveries stopped 80 days before the snapshot
  (last reported_at 2026-09-01 for the default anchor) against a weekly SLA.
- lab.instrument_runs: undocumented (no title, description, checks or SLA) and its operator_name
  column is not classified as PII.
- research.partner_lab_results: a parquet copy of lab.results (same result_id values for the first 90%
  of results, same values, units and flags): multi-domain duplication.
"""

from __future__ import annotations

from datetime import datetime

from catalog.samples._spec import ANCHOR, DomainSpec, MeshSpec, policy, roles
from catalog.samples.life_sciences import dashboards, derived, notebooks, sources
from catalog.samples.life_sciences.sources import AISHA, KENJI, LUCAS, MARIA, PRIYA, SOFIA

STORY = """
A pharmaceutical sponsor runs a dozen trials with hospitals, a central laboratory and research
partners (universities, a biobank, a CRO). Instead of copying everything into one lake, each
group publishes data products where the data lives: the EDC's DuckDB file for visits, the
laboratory's LIMS (SQLite), the safety database (SQLite), parquet and CSV exports.

Clinical operations owns trials, sites and patients; the central lab owns samples and results;
pharmacovigilance owns adverse events and derives a restricted serious-event listing and a signal
summary; research partnerships joins all of them into **de-identified outcomes**
(`research.shared_outcomes`) and a partner-facing cohort summary. Patient identity, birth dates,
phones and narratives are classified, so partners and analysts see tokens that still join.

The snapshot is taken at 2026-11-20 06:00. Fresh products promise a 90-day SLA so the shipped
snapshot stays fresh until 2027-02-18; the partners' genomic deliveries promise a weekly drop and
stopped on 2026-09-01, so they are stale whatever the date.
"""


def mesh(scale: int = 1, anchor: datetime = ANCHOR) -> MeshSpec:
    return MeshSpec(
        "life_sciences", "Life sciences research mesh",
        "Clinical trials, central laboratory, pharmacovigilance and research partnerships of a pharmaceutical "
        "sponsor, sharing de-identified outcomes with partners.",
        STORY,
        roles=roles(research_partner=("External research partner: sees the partner products, personal data "
                                      "masked (tokens still join)", False),
                    safety_officer=("Pharmacovigilance physician: sees serious adverse event listings with "
                                    "identities", True)),
        domains=[
            DomainSpec("clinical", "Clinical Operations", "Trials, investigator sites, enrolled patients and visits.",
                       MARIA, [MARIA, PRIYA]),
            DomainSpec("lab", "Central Laboratory", "Samples and laboratory results from the LIMS.", KENJI,
                       [KENJI, SOFIA]),
            DomainSpec("safety", "Pharmacovigilance", "Adverse events, expedited reporting and signal detection.",
                       AISHA, [AISHA, PRIYA],
                       policies=[policy("safety-freshness", "has_freshness_sla",
                                        "Safety products must promise freshness: late safety data harms patients.")]),
            DomainSpec("research", "Research Partnerships", "Partners, partner deliveries and shared datasets.",
                       LUCAS, [LUCAS, KENJI],
                       policies=[policy("partner-docs", "has_description",
                                        "Everything shared with partners is documented, column by column.")]),
        ],
        products=sources.products(scale, anchor) + derived.products(anchor),
        dashboards=dashboards.DASHBOARDS, notebooks=notebooks.NOTEBOOKS,
    )


DEFECTS = mesh().defects()
