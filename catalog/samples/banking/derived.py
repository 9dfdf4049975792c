"""Banking derived products: SQL over other products, across domains, up to three levels deep."""

from __future__ import annotations

from datetime import datetime, timedelta

from catalog.samples._spec import Col, Product, accepted, fresh, in_range, not_null, row_count, sla, unique
from catalog.samples.banking.sources import DANA, ELIF, GRACE


def products(anchor: datetime) -> list[Product]:
    since = (anchor - timedelta(days=730)).date().isoformat()
    return [
        Product("risk", "customer_exposure", "Credit exposure per borrower",
                "Outstanding loan balances per customer weighted by the bureau's probability of default: "
                "expected loss for capital planning. Restricted to risk officers and stewards.",
                DANA, "sql", [
                    Col("customer_id", "VARCHAR", "Borrower (retail.customers)", "identifier", True),
                    Col("open_loans", "BIGINT", "Open loan and credit-line accounts"),
                    Col("outstanding_balance", "DOUBLE", "Sum of outstanding principal in USD"),
                    Col("credit_score", "BIGINT", "Bureau score"),
                    Col("probability_of_default", "DOUBLE", "12-month probability of default"),
                    Col("expected_loss", "DOUBLE", "outstanding_balance x probability_of_default, in USD"),
                    Col("scored_at", "TIMESTAMP", "When the score was computed"),
                ], sql="""
SELECT a.customer_id,
       count(*) AS open_loans,
       round(sum(a.balance), 2) AS outstanding_balance,
       s.score AS credit_score,
       s.probability_of_default,
       round(sum(a.balance) * s.probability_of_default, 2) AS expected_loss,
       s.scored_at
FROM retail.accounts AS a
JOIN risk.credit_scores AS s ON s.customer_id = a.customer_id
WHERE a.status = 'open' AND a.account_type IN ('mortgage', 'personal_loan', 'credit_line')
GROUP BY a.customer_id, s.score, s.probability_of_default, s.scored_at
""", version="1.0.0", tags=["credit", "risk", "exposure", "capital"],
                quality=[unique("customer_id"), in_range("expected_loss", min=0)],
                sla=sla("scored_at"), access={"restricted": True, "roles": ["steward", "risk_officer"]}),
        Product("marketing", "customer_360", "Customer 360",
                "One row per active customer joining identity (retail), deposits (retail.accounts), card use "
                "(cards) and credit quality (risk): the single view of the customer for service and marketing.",
                ELIF, "sql", [
                    Col("customer_id", "VARCHAR", "Customer key", "identifier", True),
                    Col("full_name", "VARCHAR", "Customer name", "name"),
                    Col("email", "VARCHAR", "Primary e-mail", "email"),
                    Col("state", "VARCHAR", "US state of residence"),
                    Col("customer_since", "DATE", "First account opened"),
                    Col("open_accounts", "BIGINT", "Open deposit and loan accounts"),
                    Col("total_balance", "DOUBLE", "Balance across open accounts in USD"),
                    Col("cards", "BIGINT", "Cards held"),
                    Col("card_spend", "DOUBLE", "Approved card spend over the last 90 days in USD"),
                    Col("credit_score", "BIGINT", "Bureau score"),
                    Col("rating_band", "VARCHAR", "Bureau rating band"),
                    Col("updated_at", "TIMESTAMP", "Last change to the customer record"),
                ], sql="""
WITH deposits AS (
    SELECT customer_id, count(*) AS open_accounts, round(sum(balance), 2) AS total_balance
    FROM retail.accounts
    WHERE status = 'open'
    GROUP BY customer_id
), card_use AS (
    SELECT c.customer_id, count(DISTINCT c.card_id) AS cards, round(coalesce(sum(t.amount), 0), 2) AS card_spend
    FROM cards.cards AS c
    LEFT JOIN cards.card_transactions AS t ON t.card_id = c.card_id AND t.status = 'approved'
    GROUP BY c.customer_id
)
SELECT c.customer_id, c.full_name, c.email, c.state, c.customer_since,
       coalesce(d.open_accounts, 0) AS open_accounts,
       coalesce(d.total_balance, 0) AS total_balance,
       coalesce(u.cards, 0) AS cards,
       coalesce(u.card_spend, 0) AS card_spend,
       s.score AS credit_score,
       s.rating_band,
       c.updated_at
FROM retail.customers AS c
LEFT JOIN deposits AS d ON d.customer_id = c.customer_id
LEFT JOIN card_use AS u ON u.customer_id = c.customer_id
LEFT JOIN risk.credit_scores AS s ON s.customer_id = c.customer_id
WHERE c.status <> 'closed'
""", version="2.0.0", tags=["customer-360", "customer", "churn", "next-best-offer"],
                quality=[unique("customer_id"), not_null("customer_id"), row_count(min=900),
                         accepted("rating_band", ["A", "B", "C", "D", "E"], severity="warning"), fresh()],
                sla=sla("updated_at")),
        Product("marketing", "segments", "Customer micro-segments",
                "Hyper-segmentation of active customers by value, engagement, product depth and state, "
                "built on Customer 360; campaigns target micro_segment.",
                ELIF, "sql", [
                    Col("customer_id", "VARCHAR", "Customer key", "identifier", True),
                    Col("segment", "VARCHAR", "private, affluent, new_to_bank, credit_builder or mass_market"),
                    Col("engagement", "VARCHAR", "Card engagement: high, medium or low"),
                    Col("product_depth", "VARCHAR", "multi_product or single_product"),
                    Col("state", "VARCHAR", "US state of residence"),
                    Col("micro_segment", "VARCHAR", "segment/engagement/product_depth/state"),
                    Col("updated_at", "TIMESTAMP", "Last change to the customer record"),
                ], sql=f"""
WITH scored AS (
    SELECT customer_id, state, updated_at,
           CASE WHEN total_balance >= 250000 THEN 'private'
                WHEN total_balance >= 50000 THEN 'affluent'
                WHEN customer_since >= DATE '{since}' THEN 'new_to_bank'
                WHEN credit_score < 620 THEN 'credit_builder'
                ELSE 'mass_market' END AS segment,
           CASE WHEN card_spend >= 5000 THEN 'high'
                WHEN card_spend >= 1000 THEN 'medium'
                ELSE 'low' END AS engagement,
           CASE WHEN cards > 0 AND open_accounts > 1 THEN 'multi_product' ELSE 'single_product' END AS product_depth
    FROM marketing.customer_360
)
SELECT customer_id, segment, engagement, product_depth, state,
       segment || '/' || engagement || '/' || product_depth || '/' || state AS micro_segment,
       updated_at
FROM scored
""", version="1.3.0", tags=["segmentation", "hyper-segmentation", "campaigns", "customer"],
                quality=[unique("customer_id"),
                         accepted("segment", ["private", "affluent", "new_to_bank", "credit_builder", "mass_market"]),
                         accepted("engagement", ["high", "medium", "low"])],
                sla=sla("updated_at")),
        Product("marketing", "campaign_audience", "E-mail campaign audience",
                "Customers a campaign may e-mail: segmented customers whose consent allows marketing e-mail "
                "and profiling (VCDPA opt-outs removed).",
                GRACE, "sql", [
                    Col("customer_id", "VARCHAR", "Customer key", "identifier", True),
                    Col("full_name", "VARCHAR", "Customer name", "name"),
                    Col("email", "VARCHAR", "E-mail to send to", "email"),
                    Col("segment", "VARCHAR", "Customer segment"),
                    Col("micro_segment", "VARCHAR", "Micro-segment"),
                    Col("updated_at", "TIMESTAMP", "Last change to the customer record"),
                ], sql="""
SELECT s.customer_id, c.full_name, c.email, s.segment, s.micro_segment, s.updated_at
FROM marketing.segments AS s
JOIN marketing.customer_360 AS c ON c.customer_id = s.customer_id
JOIN privacy.marketing_permissions AS p ON p.customer_id = s.customer_id
WHERE p.mail_opt_in AND p.profiling_opt_in AND c.email IS NOT NULL
""", version="1.0.0", tags=["campaigns", "consent", "email"],
                quality=[unique("customer_id"), not_null("email")], sla=sla("updated_at")),
        Product("privacy", "marketing_permissions", "Marketing permissions",
                "Per customer, which uses of their data the latest consents allow; the gate every campaign "
                "audience goes through.",
                ELIF, "sql", [
                    Col("customer_id", "VARCHAR", "Customer key", "identifier", True),
                    Col("mail_opt_in", "BOOLEAN", "May receive marketing e-mail"),
                    Col("profiling_opt_in", "BOOLEAN", "May be profiled for segmentation"),
                    Col("sale_opt_in", "BOOLEAN", "Data may be sold or shared"),
                    Col("ads_opt_in", "BOOLEAN", "May receive targeted advertising"),
                    Col("updated_at", "TIMESTAMP", "Latest consent change"),
                ], sql="""
SELECT customer_id,
       bool_or(purpose = 'marketing_email' AND granted) AS mail_opt_in,
       bool_or(purpose = 'profiling' AND granted) AS profiling_opt_in,
       bool_or(purpose = 'data_sale' AND granted) AS sale_opt_in,
       bool_or(purpose = 'targeted_advertising' AND granted) AS ads_opt_in,
       max(recorded_at) AS updated_at
FROM privacy.consents
GROUP BY customer_id
""", version="1.1.0", tags=["consent", "privacy", "vcdpa", "campaigns"],
                quality=[unique("customer_id"), not_null("mail_opt_in"), not_null("profiling_opt_in")],
                sla=sla("updated_at")),
    ]
