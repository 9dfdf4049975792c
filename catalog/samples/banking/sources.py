"""Banking products read in place: parquet exports, the core-banking SQLite extract, the card
platform's DuckDB file and the bureau's CSV; the seeded defects live here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from catalog.samples._gen import (
    after, choice, const, day, derive, digits, email_of, ident, integer, number, percent, person_name,
    phone, rand, ref, seq, skewed, ssn, street, timestamp, unit,
)
from catalog.samples._spec import (
    STALE_DAYS, Col, Defect, Product, accepted, expression, fresh, in_range, not_null, references, regex,
    row_count, sla, stale_end, unique,
)

MAIL = ("mail.example", "inbox.example", "post.example", "webmail.example")
STATES = ("VA", "NY", "CA", "TX", "FL", "MD", "NC", "DC", "WA", "IL", "NJ", "GA")
STATE_WEIGHTS = (30, 10, 10, 8, 8, 8, 6, 5, 4, 4, 4, 3)
MERCHANTS = ("FreshMart", "Fuel&Go", "Café Lumen", "SkyJet Airlines", "ShopNow", "Volt Electronics",
             "CarePharmacy", "CinemaMax", "Harbor Hotels", "GreenGrocer", "RideShare", "StreamPlus")
PURPOSES = ("marketing_email", "profiling", "data_sale", "targeted_advertising")

ANA, BEN, CHEN, DANA, ELIF, FARAH, GRACE = (f"{n}@bank.example" for n in (
    "ana.silva", "ben.okafor", "chen.li", "dana.kowalski", "elif.yilmaz", "farah.haddad", "grace.nguyen"))

NULL_EMAIL_ROWS = (17, 88, 203, 345, 512, 777, 941)
DUPLICATE_ACCOUNT_ROWS = (200, 450, 900, 1300)
ORPHAN_CARD_ROWS = (311, 1204, 2718, 4500, 6021)
SENTINEL_SCORE_ROWS = (42, 137, 508, 660, 871, 990)
LATE_REQUEST_ROWS = (44, 61, 95)


def products(scale: int, anchor: datetime) -> list[Product]:
    n_cust, n_acct, n_card, n_ctx = 1000 * scale, 1600 * scale, 1200 * scale, 8000 * scale
    today = anchor.date()

    def recent(days: int):
        return timestamp(anchor - timedelta(days=days), anchor)

    customer_id = Col("customer_id", "VARCHAR", "Bank-wide customer key; joins every customer-level product",
                      "identifier", True)
    customer_ref = Col("customer_id", "VARCHAR", "The customer (retail.customers)", "identifier",
                       gen=ref("C", 7, n_cust))
    customer = {c.name: c for c in [
        Col("customer_id", customer_id.type, customer_id.description, "identifier", True, seq("C", 7)),
        Col("full_name", "VARCHAR", "Legal name as verified at onboarding (KYC)", "name", gen=person_name()),
        Col("email", "VARCHAR", "Primary e-mail for statements and alerts", "email",
            gen=email_of("full_name", MAIL)),
        Col("phone", "VARCHAR", "Mobile number used for two-factor authentication", "phone", gen=phone()),
        Col("ssn", "VARCHAR", "US Social Security number, for tax reporting", "ssn", gen=ssn()),
        Col("birth_date", "DATE", "Date of birth", "birth_date", gen=day(date(1940, 1, 1), date(2006, 11, 1))),
        Col("street_address", "VARCHAR", "Street address of residence", "address", gen=street()),
        Col("state", "VARCHAR", "US state of residence; VA residents are covered by the VCDPA",
            gen=choice(STATES, STATE_WEIGHTS)),
        Col("customer_since", "DATE", "Date the first account was opened",
            gen=day(date(2005, 1, 1), today - timedelta(days=30))),
        Col("status", "VARCHAR", "Relationship status", gen=choice(["active", "dormant", "closed"], [85, 10, 5])),
        Col("updated_at", "TIMESTAMP", "Last change to the customer record", gen=recent(30)),
    ]}

    def signed_amount(i: pl.Expr, s: int) -> pl.Expr:
        magnitude = (unit(i, s) * 9.9 + 0.0).exp().round(2)  # 1 to ~20,000 USD, mostly small
        return pl.when(percent(i, s + 1) < 25).then(magnitude).otherwise(-magnitude)

    def credit_limit(i: pl.Expr, s: int) -> pl.Expr:
        return pl.when(pl.col("card_type") == "credit").then(integer(5, 250)(i, s) * 100.0).otherwise(0.0)

    def granted(i: pl.Expr, s: int) -> pl.Expr:
        return percent(i, s) < pl.col("purpose").replace_strict(list(PURPOSES), [60, 45, 10, 35])

    def received_at(i: pl.Expr, s: int) -> pl.Expr:  # newest first, ~1.5 days apart at scale 1
        return pl.lit(anchor) - pl.duration(minutes=i * (2160 // scale) + (rand(i, s) % 600).cast(pl.Int64))

    contact_columns = [customer[n] for n in ("customer_id", "full_name", "email", "phone", "street_address",
                                             "state", "updated_at")]

    return [
        Product("retail", "customers", "Retail customers",
                "One row per retail banking customer: identity, contact details and relationship status, "
                "maintained by the onboarding (KYC) system. The master for customer_id.",
                ANA, "parquet", list(customer.values()), path="data/customers.parquet", rows=1000,
                version="2.3.0", tags=["customer", "kyc", "master-data", "pii"],
                quality=[not_null("customer_id"), unique("customer_id"), not_null("email"),
                         regex("email", r"^[^@\s]+@[^@\s]+\.[a-z]+$", severity="warning"),
                         regex("ssn", r"^\d{3}-\d{2}-\d{4}$"),
                         accepted("status", ["active", "dormant", "closed"]),
                         row_count(min=900), fresh()],
                sla=sla("updated_at"),
                defects=[Defect("nulls", "7 customers have no e-mail (NULL), lost in a CRM migration",
                                ("email",), "email not null", NULL_EMAIL_ROWS)]),
        Product("retail", "accounts", "Deposit and loan accounts",
                "Every account held at the bank with its current balance, from the nightly core-banking extract.",
                ANA, "sqlite", [
                    Col("account_id", "VARCHAR", "Account key", key=True, gen=seq("A", 8)),
                    Col("customer_id", "VARCHAR", "Account holder (retail.customers)", "identifier",
                        gen=ref("C", 7, n_cust, first_cover=True)),
                    Col("account_number", "VARCHAR", "Account number as printed on statements",
                        "account_number", gen=digits(12)),
                    Col("account_type", "VARCHAR", "checking, savings, mortgage, personal_loan or credit_line",
                        gen=choice(["checking", "savings", "mortgage", "personal_loan", "credit_line"],
                                   [40, 30, 10, 12, 8])),
                    Col("currency", "VARCHAR", "ISO 4217 currency code", gen=const("USD")),
                    Col("balance", "DOUBLE", "Current balance in USD; outstanding principal for loans",
                        gen=skewed(10, 900_000)),
                    Col("opened_on", "DATE", "Date the account was opened",
                        gen=day(date(2005, 1, 1), today - timedelta(days=30))),
                    Col("status", "VARCHAR", "open, closed or frozen",
                        gen=choice(["open", "closed", "frozen"], [88, 10, 2])),
                    Col("updated_at", "TIMESTAMP", "Time of the extract that last changed the row",
                        gen=recent(7)),
                ], path="data/core_banking.sqlite", table="accounts", rows=1600, version="1.4.2",
                tags=["accounts", "balances", "core-banking"],
                quality=[unique("account_id"), not_null("customer_id"),
                         references("customer_id", "retail.customers"),
                         accepted("account_type", ["checking", "savings", "mortgage", "personal_loan",
                                                   "credit_line"]),
                         accepted("currency", ["USD"], severity="warning"),
                         in_range("balance", min=0), expression("opened_on <= CAST(updated_at AS DATE)"),
                         fresh()],
                sla=sla("updated_at"),
                defects=[Defect("duplicate_keys", "4 account_ids occur twice: the extract re-sent rows after "
                                "a restart (count(*) - count(DISTINCT account_id) = 4)",
                                ("account_id",), "account_id unique", DUPLICATE_ACCOUNT_ROWS)]),
        Product("retail", "transactions", "Account transactions",
                "Posted ledger entries on deposit accounts over the last 90 days; the largest product of the mesh.",
                BEN, "parquet", [
                    Col("transaction_id", "VARCHAR", "Ledger entry key", key=True, gen=seq("T", 10)),
                    Col("account_id", "VARCHAR", "Account posted to (retail.accounts)",
                        gen=ref("A", 8, n_acct, avoid=DUPLICATE_ACCOUNT_ROWS)),
                    Col("posted_at", "TIMESTAMP", "Posting time", gen=recent(90)),
                    Col("amount", "DOUBLE", "Signed amount in USD: credits positive, debits negative",
                        gen=signed_amount),
                    Col("channel", "VARCHAR", "Where the transaction started",
                        gen=choice(["card", "online", "mobile", "atm", "branch", "transfer"], [35, 20, 25, 8, 4, 8])),
                    Col("category", "VARCHAR", "Spending category from the categorisation engine",
                        gen=choice(["groceries", "dining", "travel", "utilities", "rent", "salary", "transfer",
                                    "fees", "entertainment", "health"])),
                    Col("counterparty", "VARCHAR", "Merchant or counterparty name", gen=choice(MERCHANTS)),
                ], path="data/transactions.parquet", rows=20_000, version="3.0.1",
                tags=["transactions", "ledger", "spending"],
                quality=[unique("transaction_id"), not_null("account_id"),
                         references("account_id", "retail.accounts", severity="warning"),
                         in_range("amount", min=-50_000, max=50_000),
                         accepted("channel", ["card", "online", "mobile", "atm", "branch", "transfer"]),
                         row_count(min=15_000), fresh()],
                sla=sla("posted_at")),
        Product("cards", "cards", "Payment cards",
                "Debit, credit and prepaid cards issued to customers, with limits and lifecycle status.",
                CHEN, "duckdb", [
                    Col("card_id", "VARCHAR", "Card key", key=True, gen=seq("K", 8)),
                    customer_ref,
                    Col("card_number", "VARCHAR", "Primary account number (PAN)", "account_number", gen=digits(16)),
                    Col("card_type", "VARCHAR", "debit, credit or prepaid",
                        gen=choice(["debit", "credit", "prepaid"], [50, 45, 5])),
                    Col("network", "VARCHAR", "Card network", gen=choice(["visa", "mastercard", "amex"], [55, 35, 10])),
                    Col("credit_limit", "DOUBLE", "Credit limit in USD; 0 for debit and prepaid cards",
                        gen=credit_limit),
                    Col("issued_on", "DATE", "Issue date", gen=day(date(2018, 1, 1), today - timedelta(days=60))),
                    Col("expires_on", "DATE", "Expiry date (four years after issue)",
                        gen=derive(lambda: pl.col("issued_on").dt.offset_by("4y"))),
                    Col("status", "VARCHAR", "active, blocked, expired or lost",
                        gen=choice(["active", "blocked", "expired", "lost"], [85, 5, 7, 3])),
                    Col("updated_at", "TIMESTAMP", "Last lifecycle event", gen=recent(14)),
                ], path="data/cards.duckdb", table="cards", rows=1200, version="1.2.0",
                tags=["cards", "credit", "debit"],
                quality=[unique("card_id"), references("customer_id", "retail.customers"),
                         regex("card_number", r"^\d{16}$"), accepted("card_type", ["debit", "credit", "prepaid"]),
                         in_range("credit_limit", min=0, max=50_000), expression("expires_on > issued_on"),
                         fresh()],
                sla=sla("updated_at")),
        Product("cards", "card_transactions", "Card authorisations",
                "Card authorisations from the card platform over the last 90 days, approved or not.",
                BEN, "duckdb", [
                    Col("card_transaction_id", "VARCHAR", "Authorisation key", key=True, gen=seq("CT", 9)),
                    Col("card_id", "VARCHAR", "Card used (cards.cards)", gen=ref("K", 8, n_card)),
                    Col("authorized_at", "TIMESTAMP", "Authorisation time", gen=recent(90)),
                    Col("amount", "DOUBLE", "Amount in USD", gen=skewed(1, 3000)),
                    Col("merchant", "VARCHAR", "Merchant name", gen=choice(MERCHANTS)),
                    Col("merchant_category", "VARCHAR", "Merchant category",
                        gen=choice(["grocery", "fuel", "restaurants", "travel", "online_retail", "electronics",
                                    "pharmacy", "entertainment"])),
                    Col("country", "VARCHAR", "Merchant country (ISO 3166 alpha-2)",
                        gen=choice(["US", "CA", "MX", "GB", "FR", "DE"], [80, 5, 5, 4, 3, 3])),
                    Col("status", "VARCHAR", "approved, declined or reversed",
                        gen=choice(["approved", "declined", "reversed"], [92, 6, 2])),
                ], path="data/cards.duckdb", table="card_transactions", rows=8000, version="1.2.0",
                tags=["cards", "transactions", "spending"],
                quality=[unique("card_transaction_id"), not_null("card_id"),
                         references("card_id", "cards.cards"), in_range("amount", min=0, max=25_000),
                         accepted("status", ["approved", "declined", "reversed"]),
                         regex("country", r"^[A-Z]{2}$", severity="info"), row_count(min=5000), fresh()],
                sla=sla("authorized_at"),
                defects=[Defect("orphans", "5 authorisations name card_ids that cards.cards does not hold "
                                "(cards purged before their transactions)", ("card_id",),
                                "card_id references cards.cards", ORPHAN_CARD_ROWS,
                                [f"KX{n + 1:06d}" for n in range(len(ORPHAN_CARD_ROWS))])]),
        Product("risk", "credit_scores", "Credit bureau scores",
                "Monthly credit score and probability of default per customer, delivered by the bureau as CSV.",
                DANA, "csv", [
                    Col("customer_id", "VARCHAR", "Scored customer (retail.customers)", "identifier", True,
                        seq("C", 7)),
                    Col("score", "BIGINT", "FICO-like score, 300 to 850", gen=integer(480, 850)),
                    Col("probability_of_default", "DOUBLE", "12-month probability of default",
                        gen=derive(lambda: ((850 - pl.col("score")) / 550 * 0.25).round(4))),
                    Col("rating_band", "VARCHAR", "A (best) to E, from the score",
                        gen=derive(lambda: pl.when(pl.col("score") >= 760).then(pl.lit("A"))
                                   .when(pl.col("score") >= 700).then(pl.lit("B"))
                                   .when(pl.col("score") >= 640).then(pl.lit("C"))
                                   .when(pl.col("score") >= 580).then(pl.lit("D")).otherwise(pl.lit("E")))),
                    Col("model_version", "VARCHAR", "Scoring model version", gen=const("pd-2026.3")),
                    Col("scored_at", "TIMESTAMP", "When the bureau scored the customer", gen=recent(30)),
                ], path="data/credit_scores.csv", rows=1000, version="2026.3.0",
                tags=["credit", "risk", "bureau", "pd"],
                quality=[unique("customer_id"), in_range("score", min=300, max=850),
                         in_range("probability_of_default", min=0, max=1),
                         accepted("rating_band", ["A", "B", "C", "D", "E"]),
                         references("customer_id", "retail.customers"), fresh()],
                sla=sla("scored_at"),
                defects=[Defect("out_of_range", "6 scores are 999, the bureau's sentinel for 'no score'",
                                ("score",), "score in range", SENTINEL_SCORE_ROWS, 999)]),
        Product("risk", "fraud_alerts", "Fraud alerts",
                "Alerts raised by the card fraud model, with the rule that fired and the investigation outcome.",
                CHEN, "parquet", [
                    Col("alert_id", "VARCHAR", "Alert key", key=True, gen=seq("FA", 6)),
                    Col("card_transaction_id", "VARCHAR", "Authorisation that raised the alert",
                        gen=ref("CT", 9, n_ctx)),
                    customer_ref,
                    Col("rule", "VARCHAR", "Rule that fired",
                        gen=choice(["velocity", "geo_mismatch", "high_amount", "new_merchant", "card_testing"])),
                    Col("risk_score", "DOUBLE", "Model score, 0 to 1", gen=number(0.5, 1.0, 3)),
                    Col("status", "VARCHAR", "open, confirmed_fraud or false_positive",
                        gen=choice(["open", "confirmed_fraud", "false_positive"], [30, 20, 50])),
                    Col("raised_at", "TIMESTAMP", "When the alert was raised",
                        gen=timestamp(stale_end(anchor) - timedelta(days=60), stale_end(anchor))),
                ], path="data/fraud_alerts.parquet", rows=150, version="1.0.3",
                tags=["fraud", "alerts", "cards", "risk"],
                quality=[unique("alert_id"), in_range("risk_score", min=0, max=1),
                         references("card_transaction_id", "cards.card_transactions", severity="warning"),
                         fresh(severity="error")],
                sla=sla("raised_at", 24),
                defects=[Defect("stale", f"The feed stopped when the fraud model was migrated: the last alert "
                                f"was raised {stale_end(anchor):%Y-%m-%d}, {STALE_DAYS} days before the snapshot, "
                                "against a 24-hour SLA", ("raised_at",), "freshness")]),
        Product("risk", "loan_applications", "Loan applications",
                "Credit applications and underwriting decisions from the loan origination system.",
                DANA, "sqlite", [
                    Col("application_id", "VARCHAR", "Application key", key=True, gen=seq("LA", 7)),
                    customer_ref,
                    Col("loan_product", "VARCHAR", "Product applied for",
                        gen=choice(["mortgage", "personal_loan", "auto_loan", "credit_card"])),
                    Col("requested_amount", "DOUBLE", "Amount requested in USD", gen=skewed(1000, 750_000, 0)),
                    Col("term_months", "BIGINT", "Requested term in months",
                        gen=choice([12, 24, 36, 48, 60, 120, 180, 240, 360])),
                    Col("annual_income", "DOUBLE", "Declared gross annual income in USD",
                        gen=skewed(18_000, 450_000, 0)),
                    Col("decision", "VARCHAR", "approved, declined, referred or pending",
                        gen=choice(["approved", "declined", "referred", "pending"], [55, 25, 10, 10])),
                    Col("applied_at", "TIMESTAMP", "Submission time", gen=recent(120)),
                    Col("decided_at", "TIMESTAMP", "Decision time; empty while pending",
                        gen=lambda i, s: pl.when(pl.col("decision") != "pending").then(
                            pl.min_horizontal(after("applied_at", 1, 240)(i, s), pl.lit(anchor)))),
                ], path="data/loans.sqlite", table="loan_applications", rows=800, version="1.1.0",
                tags=["credit", "loans", "underwriting"],
                quality=[unique("application_id"), references("customer_id", "retail.customers"),
                         accepted("decision", ["approved", "declined", "referred", "pending"]),
                         in_range("term_months", min=6, max=480),
                         expression("decided_at IS NULL OR decided_at >= applied_at"), fresh()],
                sla=sla("applied_at")),
        Product("marketing", "customer_contacts", "Customer contact list",
                "Marketing's own copy of customer contact details, exported from retail for the e-mail tool.",
                GRACE, "parquet", contact_columns, path="data/customer_contacts.parquet", rows=950,
                seed="retail.customers", version="0.9.0", tags=["customer", "contacts", "email"],
                quality=[unique("customer_id")], sla=sla("updated_at"),
                defects=[Defect("duplicate_product", "A copy of retail.customers: the same customer_id values "
                                "(the first 95% of customers) and the same names, e-mails, phones and addresses, "
                                "kept by another domain (multi-domain duplication)", ("customer_id",),
                                copy_of="retail.customers")]),
        Product("marketing", "campaign_responses", "", "", GRACE, "csv", [
            Col("response_id", "VARCHAR", gen=seq("RS", 7)),
            Col("customer_id", "VARCHAR", gen=ref("C", 7, n_cust)),
            Col("campaign_code", "VARCHAR",
                gen=choice(["WINTER26_CASHBACK", "MORTGAGE_RATE_DROP", "CARD_UPGRADE", "SAVINGS_BOOST"])),
            Col("channel", "VARCHAR", gen=choice(["email", "sms", "app_push", "branch"])),
            Col("contact_email", "VARCHAR", gen=email_of(None, MAIL)),
            Col("responded_at", "TIMESTAMP", gen=timestamp(anchor - timedelta(days=60), anchor)),
            Col("converted", "BOOLEAN", gen=lambda i, s: percent(i, s) < 12),
        ], path="data/campaign_responses.csv", rows=600,
            defects=[Defect("undocumented", "No title, no description, no column descriptions, no checks, no SLA"),
                     Defect("unclassified_pii", "contact_email holds e-mail addresses but is not classified as PII",
                            ("contact_email",))]),
        Product("privacy", "consents", "Consent records",
                "Each customer's consent per processing purpose (marketing e-mail, profiling, sale of data, "
                "targeted advertising), as recorded under the VCDPA and CCPA.",
                FARAH, "duckdb", [
                    Col("customer_id", "VARCHAR", "Customer (retail.customers)", "identifier", True,
                        lambda i, s: ident("C", 7, i // 4 + 1)),
                    Col("purpose", "VARCHAR", "Processing purpose", key=True,
                        gen=lambda i, s: (i % 4).replace_strict(list(range(4)), list(PURPOSES))),
                    Col("granted", "BOOLEAN", "True when the customer consents; False is an opt-out", gen=granted),
                    Col("channel", "VARCHAR", "Where consent was captured",
                        gen=choice(["web", "mobile", "branch", "call_center"])),
                    Col("recorded_at", "TIMESTAMP", "When the choice was recorded",
                        gen=timestamp(anchor - timedelta(days=365), anchor)),
                ], path="data/privacy.duckdb", table="consents", rows=4000, version="1.5.0",
                tags=["consent", "privacy", "vcdpa", "opt-out"],
                quality=[unique("customer_id", "purpose"), accepted("purpose", list(PURPOSES)),
                         not_null("granted"), references("customer_id", "retail.customers"),
                         row_count(min=3000)],
                sla=sla("recorded_at")),
        Product("privacy", "data_subject_requests", "Data subject requests",
                "Access, deletion, correction and opt-out requests from consumers, with the 45-day VCDPA "
                "deadline. Restricted to the privacy office and stewards.",
                FARAH, "parquet", [
                    Col("request_id", "VARCHAR", "Request key", key=True, gen=seq("DSR-", 5)),
                    customer_ref,
                    Col("requester_email", "VARCHAR", "E-mail the request came from", "email",
                        gen=email_of(None, MAIL)),
                    Col("request_type", "VARCHAR", "access, deletion, correction, opt_out or portability",
                        gen=choice(["access", "deletion", "correction", "opt_out", "portability"], [30, 20, 10, 35, 5])),
                    Col("jurisdiction", "VARCHAR", "Law the request is made under",
                        gen=choice(["VCDPA", "CCPA", "CPA", "CTDPA"], [60, 25, 10, 5])),
                    Col("received_at", "TIMESTAMP", "When the request was received", gen=received_at),
                    Col("due_at", "TIMESTAMP", "Statutory deadline (45 days)",
                        gen=derive(lambda: pl.col("received_at") + pl.duration(days=45))),
                    Col("closed_at", "TIMESTAMP", "When the request was answered; empty while open",
                        gen=lambda i, s: pl.when(i % 7 != 0).then(
                            pl.min_horizontal(after("received_at", 24, 40 * 24)(i, s), pl.lit(anchor)))),
                    Col("status", "VARCHAR", "open or closed",
                        gen=derive(lambda: pl.when(pl.col("closed_at").is_null()).then(pl.lit("open"))
                                   .otherwise(pl.lit("closed")))),
                ], path="data/data_subject_requests.parquet", rows=120, version="1.0.1",
                tags=["privacy", "vcdpa", "dsr", "compliance"],
                quality=[unique("request_id"), not_null("customer_id"),
                         accepted("request_type", ["access", "deletion", "correction", "opt_out", "portability"]),
                         accepted("jurisdiction", ["VCDPA", "CCPA", "CPA", "CTDPA"], severity="warning"),
                         expression("closed_at IS NULL OR closed_at <= due_at", name="answered within deadline"),
                         fresh()],
                sla=sla("received_at"), access={"restricted": True, "roles": ["steward", "privacy_officer"]},
                defects=[Defect("rule_violation", "3 requests were answered 9 days after their 45-day deadline",
                                ("closed_at",), "answered within deadline", LATE_REQUEST_ROWS,
                                pl.col("due_at") + pl.duration(days=9))]),
    ]
