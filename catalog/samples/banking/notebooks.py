"""Banking example notebooks: Customer 360, churn-risk segments and credit risk by segment.

Each is what an analyst would write in the workbench: plain SQL over products from several domains,
one chart per result. The generator writes them to `<mesh>/notebooks/<slug>.yaml`.
"""

from __future__ import annotations

from typing import Any

NOTEBOOKS: list[dict[str, Any]] = [
    {
        "title": "Customer 360",
        "description": "Who our customers are and what they hold, joining retail, cards and risk on the "
                       "customer key (masked for analysts, and still joining).",
        "role": "analyst",
        "cells": [
            {"kind": "markdown", "source": "Customers, balances and card spend per state, then how credit "
                                           "quality relates to card spend."},
            {"title": "Customers and balances by state",
             "source": "SELECT c.state,\n       count(DISTINCT c.customer_id) AS customers,\n"
                       "       sum(a.balance) AS total_balance\nFROM retail.customers AS c\n"
                       "JOIN retail.accounts AS a USING (customer_id)\nGROUP BY c.state\n"
                       "ORDER BY total_balance DESC",
             "chart": {"mark": "bar", "x": "state", "y": "total_balance"}},
            {"title": "Card spend by credit rating band",
             "source": "SELECT s.rating_band,\n       count(DISTINCT k.customer_id) AS card_holders,\n"
                       "       sum(t.amount) AS card_spend\nFROM cards.card_transactions AS t\n"
                       "JOIN cards.cards AS k USING (card_id)\n"
                       "JOIN risk.credit_scores AS s ON s.customer_id = k.customer_id\n"
                       "GROUP BY s.rating_band\nORDER BY s.rating_band",
             "chart": {"mark": "bar", "x": "rating_band", "y": "card_spend"}},
            {"title": "Balance against credit score (Customer 360)",
             "source": "SELECT credit_score, total_balance, rating_band\nFROM marketing.customer_360\n"
                       "WHERE credit_score IS NOT NULL",
             "chart": {"mark": "point", "x": "credit_score", "y": "total_balance", "color": "rating_band"}},
        ],
    },
    {
        "title": "Churn segments",
        "description": "Which hyper-segments are drifting away: low engagement, few products, and how many "
                       "of them marketing may still contact under their consents.",
        "role": "analyst",
        "cells": [
            {"title": "Customers per segment and engagement",
             "source": "SELECT segment, engagement, count(*) AS customers\nFROM marketing.segments\n"
                       "GROUP BY ALL\nORDER BY segment, engagement",
             "chart": {"mark": "bar", "x": "segment", "y": "customers", "color": "engagement"}},
            {"title": "Churn risk: low engagement and a single product",
             "source": "SELECT s.segment,\n"
                       "       count(*) FILTER (WHERE s.engagement = 'low' AND s.product_depth = 'single_product') "
                       "AS at_risk,\n       count(*) AS customers,\n"
                       "       round(100.0 * at_risk / customers, 1) AS at_risk_pct\n"
                       "FROM marketing.segments AS s\nGROUP BY s.segment\nORDER BY at_risk_pct DESC",
             "chart": {"mark": "bar", "x": "segment", "y": "at_risk_pct"}},
            {"title": "Who we may contact to win them back",
             "source": "SELECT s.segment,\n       count(*) FILTER (WHERE p.mail_opt_in) AS may_mail,\n"
                       "       count(*) FILTER (WHERE NOT p.mail_opt_in OR p.mail_opt_in IS NULL) "
                       "AS may_not_mail\nFROM marketing.segments AS s\n"
                       "LEFT JOIN privacy.marketing_permissions AS p USING (customer_id)\n"
                       "WHERE s.engagement = 'low'\nGROUP BY s.segment\nORDER BY may_mail DESC"},
        ],
    },
    {
        "title": "Credit risk by segment",
        "description": "Loan applications and default probability per marketing segment: risk and marketing "
                       "data joined on the masked customer key.",
        "role": "analyst",
        "cells": [
            {"title": "Applications and approval rate per segment",
             "source": "SELECT s.segment,\n       count(*) AS applications,\n"
                       "       round(100.0 * count(*) FILTER (WHERE l.decision = 'approved') / count(*), 1) "
                       "AS approved_pct\nFROM risk.loan_applications AS l\n"
                       "JOIN marketing.segments AS s USING (customer_id)\nGROUP BY s.segment\n"
                       "ORDER BY applications DESC",
             "chart": {"mark": "bar", "x": "segment", "y": "approved_pct"}},
            {"title": "Mean probability of default per segment and rating band",
             "source": "SELECT s.segment, c.rating_band, avg(c.probability_of_default) AS mean_pd\n"
                       "FROM risk.credit_scores AS c\nJOIN marketing.segments AS s USING (customer_id)\n"
                       "GROUP BY ALL",
             "chart": {"mark": "rect", "x": "segment", "y": "rating_band", "color": "mean_pd"}},
        ],
    },
]
