"""Life sciences example notebooks: trial safety signals and lab abnormalities by arm.

Clinical, lab, safety and research products joined on the patient key (a token for analysts).
"""

from __future__ import annotations

from typing import Any

NOTEBOOKS: list[dict[str, Any]] = [
    {
        "title": "Safety signals by arm",
        "description": "Adverse events per trial arm from safety, with enrolment from clinical: is a dose "
                       "arm reporting more, or more serious, events than placebo?",
        "role": "analyst",
        "cells": [
            {"title": "Adverse events per 100 patients, by arm",
             "source": "SELECT p.arm,\n       count(DISTINCT p.patient_id) AS patients,\n"
                       "       count(a.ae_id) AS events,\n"
                       "       round(100.0 * count(a.ae_id) / count(DISTINCT p.patient_id), 1) "
                       "AS events_per_100\nFROM clinical.patients AS p\n"
                       "LEFT JOIN safety.adverse_events AS a USING (patient_id)\nGROUP BY p.arm\n"
                       "ORDER BY events_per_100 DESC",
             "chart": {"mark": "bar", "x": "arm", "y": "events_per_100"}},
            {"title": "Serious events by trial phase and arm",
             "source": "SELECT t.phase, p.arm, count(*) FILTER (WHERE a.is_serious) AS serious_events\n"
                       "FROM safety.adverse_events AS a\nJOIN clinical.patients AS p USING (patient_id)\n"
                       "JOIN clinical.trials AS t USING (trial_id)\nGROUP BY ALL\nORDER BY t.phase, p.arm",
             "chart": {"mark": "bar", "x": "phase", "y": "serious_events", "color": "arm"}},
            {"title": "Events reported per month",
             "source": "SELECT date_trunc('month', a.onset_date) AS month, p.arm, count(*) AS events\n"
                       "FROM safety.adverse_events AS a\nJOIN clinical.patients AS p USING (patient_id)\n"
                       "GROUP BY ALL\nORDER BY month",
             "chart": {"mark": "line", "x": "month", "y": "events", "color": "arm"}},
        ],
    },
    {
        "title": "Lab abnormalities by site",
        "description": "Abnormal lab results per clinical site: lab samples and results joined to the "
                       "patients and the sites that enrolled them.",
        "role": "analyst",
        "cells": [
            {"title": "Share of abnormal results per site",
             "source": "SELECT si.city || ' (' || si.country || ')' AS site,\n"
                       "       count(*) AS results,\n"
                       "       round(100.0 * count(*) FILTER (WHERE r.abnormal_flag IS NOT NULL "
                       "AND r.abnormal_flag <> 'N') / count(*), 1) AS abnormal_pct\n"
                       "FROM lab.results AS r\nJOIN lab.samples AS s USING (sample_id)\n"
                       "JOIN clinical.patients AS p USING (patient_id)\nJOIN clinical.sites AS si USING (site_id)\n"
                       "GROUP BY ALL\nORDER BY abnormal_pct DESC",
             "chart": {"mark": "bar", "x": "site", "y": "abnormal_pct"}},
            {"title": "Results per test and flag",
             "source": "SELECT test_code, coalesce(abnormal_flag, 'none') AS flag, count(*) AS results\n"
                       "FROM lab.results\nGROUP BY ALL",
             "chart": {"mark": "bar", "x": "test_code", "y": "results", "color": "flag"}},
        ],
    },
]
