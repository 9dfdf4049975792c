"""Banking sample dashboards: Customer 360 and segment value (marketing), credit and fraud risk (risk).

Each entry is `<domain>.<name>` -> the YAML a person would write; the generator writes them to
`<domain>/dashboards/<name>.yaml`. Tiles over PII show it masked to analysts; the exposure tile reads
a restricted product, so an analyst sees why it is hidden instead of an error.
"""

from __future__ import annotations

from typing import Any

from catalog.samples.banking.sources import DANA, ELIF

DASHBOARDS: dict[str, dict[str, Any]] = {
    "marketing.customer_360": {
        "title": "Customer 360",
        "owner": ELIF,
        "description": "Who our customers are, where they bank and how much they hold and spend, "
                       "from marketing.customer_360 (retail, cards and risk joined).",
        "filters": [
            {"name": "state", "kind": "select", "label": "State"},
            {"name": "rating_band", "kind": "select", "label": "Rating band"},
            {"name": "customer_since", "kind": "date_range", "label": "Customer since"},
        ],
        "tiles": [
            {"title": "Balances by state",
             "query": "SELECT state, rating_band, customer_since, total_balance\nFROM marketing.customer_360\n",
             "chart": {"mark": "bar", "x": "state", "y": "total_balance", "aggregate": "sum"},
             "size": "medium", "order": 1},
            {"title": "Customers by rating band",
             "query": "SELECT rating_band, state, customer_since, count(*) AS customers\n"
                      "FROM marketing.customer_360\nGROUP BY ALL\n",
             "chart": {"mark": "arc", "x": "rating_band", "y": "customers", "aggregate": "sum"},
             "size": "medium", "order": 2},
            {"title": "Card spend against credit score",
             "query": "SELECT credit_score, card_spend, rating_band, state, customer_since\n"
                      "FROM marketing.customer_360\nWHERE card_spend > 0\n",
             "chart": {"mark": "point", "x": "credit_score", "y": "card_spend", "color": "rating_band"},
             "size": "medium", "order": 3},
            {"title": "Top customers by balance",
             "description": "Names and e-mails are masked unless your role may see personal data.",
             "query": "SELECT full_name, email, state, rating_band, customer_since, total_balance\n"
                      "FROM marketing.customer_360\nORDER BY total_balance DESC\nLIMIT 25\n",
             "size": "medium", "order": 4},
        ],
    },
    "marketing.segment_value": {
        "title": "Segment value",
        "owner": ELIF,
        "description": "What each hyper-segment is worth: customers, balances and card spend per segment, "
                       "and who campaigns may contact.",
        "filters": [
            {"name": "segment", "kind": "select", "label": "Segment"},
            {"name": "state", "kind": "select", "label": "State"},
        ],
        "tiles": [
            {"title": "Balance per segment and engagement",
             "query": "SELECT s.segment, s.engagement, s.state, c.total_balance\n"
                      "FROM marketing.segments AS s\nJOIN marketing.customer_360 AS c USING (customer_id)\n",
             "chart": {"mark": "bar", "x": "segment", "y": "total_balance", "color": "engagement",
                       "aggregate": "sum"},
             "size": "large", "order": 1},
            {"title": "Customers per segment",
             "query": "SELECT segment, state, count(*) AS customers\nFROM marketing.segments\nGROUP BY ALL\n",
             "chart": {"mark": "bar", "x": "segment", "y": "customers", "aggregate": "sum"},
             "size": "small", "order": 2},
            {"title": "Average card spend per segment",
             "query": "SELECT s.segment, s.state, c.card_spend\nFROM marketing.segments AS s\n"
                      "JOIN marketing.customer_360 AS c USING (customer_id)\n",
             "chart": {"mark": "bar", "x": "segment", "y": "card_spend", "aggregate": "mean"},
             "size": "medium", "order": 3},
            {"title": "Campaign audience by micro-segment",
             "query": "SELECT segment, micro_segment, count(*) AS contactable\n"
                      "FROM marketing.campaign_audience\nGROUP BY ALL\nORDER BY contactable DESC\n",
             "size": "medium", "order": 4},
        ],
    },
    "risk.credit_risk": {
        "title": "Credit and fraud risk",
        "owner": DANA,
        "description": "Expected loss by rating band (restricted to risk officers and stewards), "
                       "bureau score distribution and the fraud alert feed.",
        "filters": [
            {"name": "rating_band", "kind": "select", "label": "Rating band"},
        ],
        "tiles": [
            {"title": "Expected loss by rating band",
             "description": "Reads risk.customer_exposure, restricted to risk officers and stewards.",
             "query": "SELECT s.rating_band, e.expected_loss\nFROM risk.customer_exposure AS e\n"
                      "JOIN risk.credit_scores AS s USING (customer_id)\n",
             "chart": {"mark": "bar", "x": "rating_band", "y": "expected_loss", "aggregate": "sum"},
             "size": "medium", "order": 1},
            {"title": "Customers per rating band",
             "query": "SELECT rating_band, count(*) AS customers, avg(score) AS mean_score\n"
                      "FROM risk.credit_scores\nGROUP BY ALL\n",
             "chart": {"mark": "bar", "x": "rating_band", "y": "customers"},
             "size": "medium", "order": 2},
            {"title": "Fraud alerts per week and rule",
             "query": "SELECT date_trunc('week', raised_at) AS week, rule, count(*) AS alerts\n"
                      "FROM risk.fraud_alerts\nGROUP BY ALL\n",
             "chart": {"mark": "line", "x": "week", "y": "alerts", "color": "rule"},
             "size": "full", "order": 3},
        ],
    },
}
