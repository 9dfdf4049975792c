"""Banking sample mesh: Customer 360, hyper-segmentation and VCDPA privacy across five domains.

Seeded defects (exact counts at every scale; `DEFECTS` is the list tests rely on):
- retail.customers: 7 NULL e-mails (`email not null` fails).
- retail.accounts: 4 account_ids occur twice (`account_id unique` fails).
- cards.card_transactions: 5 rows point at cards that do not exist (`card_id references cards.cards` fails).
- risk.credit_scores: 6 scores of 999, the bureau's "no score" sentinel (`score in range` fails).
- risk.fraud_alerts: stale on purpose: the feed stopped 80 days before the snapshot
  (last raised_at 2026-09-01 for the default anchor) against a 24-hour SLA.
- privacy.data_subject_requests: 3 requests closed after their 45-day VCDPA deadline (expression check fails).
- marketing.campaign_responses: undocumented (no title, description, checks or SLA) and its
  contact_email column is not classified as PII.
- marketing.customer_contacts: a parquet copy of retail.customers (same customer_id values for the
  first 95% of customers, same names, e-mails, phones, addresses): multi-domain duplication.
"""


from datetime import datetime

from catalog.samples._spec import ANCHOR, DomainSpec, MeshSpec, policy, roles
from catalog.samples.banking import dashboards, derived, notebooks, sources
from catalog.samples.banking.sources import ANA, BEN, CHEN, DANA, ELIF, FARAH, GRACE

STORY = """
A mid-size US retail bank moves from one central warehouse to a data mesh. Retail banking,
cards, risk, marketing and a privacy office each publish their own data products, read in
place from the systems they run (parquet exports, a core-banking SQLite extract, the card
platform's DuckDB file, a CSV from the credit bureau).

Marketing builds **Customer 360** (`marketing.customer_360`) by joining retail, cards and
risk, then **hyper-segmentation** on top of it (`marketing.segments`), and a campaign audience
that only keeps customers whose consent allows it (`privacy.marketing_permissions`). The privacy
office tracks data subject requests under Virginia's **VCDPA** (45 days to answer). Personal data
(names, e-mails, SSNs, birth dates, addresses) is classified, so analysts see it masked while
customer_id still joins.

The snapshot is taken at 2026-11-20 06:00. Fresh products promise a 90-day SLA so the shipped
snapshot stays fresh until 2027-02-18; the fraud alert feed promises 24 hours and stopped on
2026-09-01, so it is stale whatever the date.
"""


def mesh(scale: int = 1, anchor: datetime = ANCHOR) -> MeshSpec:
    return MeshSpec(
        "banking", "Retail bank data mesh",
        "Customer 360, hyper-segmentation and VCDPA privacy for a US retail bank, across retail, cards, "
        "risk, marketing and privacy domains.",
        STORY,
        roles=roles(risk_officer=("Credit and fraud risk officer: also sees the restricted risk products; "
                                  "personal data masked", False),
                    privacy_officer=("Privacy office: answers data subject requests under the VCDPA; "
                                     "sees personal data", True)),
        domains=[
            DomainSpec("retail", "Retail Banking", "Customers, deposit and loan accounts and their ledger.",
                       ANA, [ANA, BEN, "hugo.martin@bank.example"]),
            DomainSpec("cards", "Cards", "Card issuing and the card authorisation platform.", CHEN, [CHEN, BEN]),
            DomainSpec("risk", "Risk", "Credit scoring, underwriting, fraud and capital.", DANA,
                       [DANA, CHEN, "ivan.novak@bank.example"]),
            DomainSpec("marketing", "Marketing", "Customer 360, segmentation and campaigns.", ELIF,
                       [ELIF, GRACE]),
            DomainSpec("privacy", "Privacy Office", "Consent and data subject requests (VCDPA, CCPA).",
                       FARAH, [FARAH, ELIF],
                       policies=[policy("privacy-two-checks", "has_quality_checks",
                                        "Privacy products declare at least two quality checks.", min=2)]),
        ],
        products=sources.products(scale, anchor) + derived.products(anchor),
        dashboards=dashboards.DASHBOARDS, notebooks=notebooks.NOTEBOOKS,
    )


DEFECTS = mesh().defects()
