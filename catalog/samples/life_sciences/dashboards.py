"""Life sciences sample dashboards: trial enrolment (clinical) and adverse events (safety).

Each entry is `<domain>.<name>` -> the YAML a person would write. Investigator names are masked for
analysts; the serious adverse event listing is restricted, so roles without access see why.
"""

from __future__ import annotations

from typing import Any

from catalog.samples.life_sciences.sources import AISHA, MARIA

DASHBOARDS: dict[str, dict[str, Any]] = {
    "clinical.trial_enrolment": {
        "title": "Trial enrolment",
        "owner": MARIA,
        "description": "Enrolment against plan per trial, over time, by arm and sex, and the sites enrolling.",
        "filters": [
            {"name": "trial_id", "kind": "select", "label": "Trial"},
            {"name": "enrolled", "column": "enrolled_on", "kind": "date_range", "label": "Enrolled between"},
        ],
        "tiles": [
            {"title": "Enrolled against planned, per trial",
             "query": "SELECT t.trial_id, t.phase, count(p.patient_id) AS enrolled, t.planned_enrollment\n"
                      "FROM clinical.trials AS t\nLEFT JOIN clinical.patients AS p USING (trial_id)\n"
                      "GROUP BY ALL\nORDER BY t.trial_id\n",
             "chart": {"mark": "bar", "x": "trial_id", "y": "enrolled", "color": "phase"},
             "size": "medium", "order": 1},
            {"title": "Patients enrolled per month",
             "query": "SELECT date_trunc('month', enrolled_at)::DATE AS enrolled_on, trial_id, "
                      "count(*) AS patients\nFROM clinical.patients\nGROUP BY ALL\n",
             "chart": {"mark": "line", "x": "enrolled_on", "y": "patients", "aggregate": "sum"},
             "size": "medium", "order": 2},
            {"title": "Arms and sex",
             "query": "SELECT trial_id, arm, sex, enrolled_at::DATE AS enrolled_on\nFROM clinical.patients\n",
             "chart": {"mark": "bar", "x": "arm", "color": "sex", "aggregate": "count"},
             "size": "medium", "order": 3},
            {"title": "Sites and investigators",
             "description": "Investigator names and e-mails are masked unless your role may see personal data.",
             "query": "SELECT s.site_id, s.city, s.country, s.principal_investigator, p.trial_id,\n"
                      "       count(*) AS patients\nFROM clinical.patients AS p\n"
                      "JOIN clinical.sites AS s USING (site_id)\nGROUP BY ALL\nORDER BY patients DESC\n",
             "size": "medium", "order": 4},
        ],
    },
    "safety.adverse_events": {
        "title": "Adverse events",
        "owner": AISHA,
        "description": "Signals per MedDRA term and arm, severity, onset over time, and the serious event "
                       "listing for the safety officers.",
        "filters": [
            {"name": "trial_id", "kind": "select", "label": "Trial"},
            {"name": "arm", "kind": "select", "label": "Arm"},
        ],
        "tiles": [
            {"title": "Incidence per term and arm",
             "query": "SELECT trial_id, arm, meddra_term, events, incidence_pct\nFROM safety.signal_summary\n",
             "chart": {"mark": "bar", "x": "meddra_term", "y": "incidence_pct", "color": "arm",
                       "aggregate": "mean"},
             "size": "large", "order": 1},
            {"title": "Events by severity grade",
             "query": "SELECT severity_grade::VARCHAR AS grade, count(*) AS events\n"
                      "FROM safety.adverse_events\nGROUP BY ALL\nORDER BY grade\n",
             "chart": {"mark": "arc", "x": "grade", "y": "events"},
             "size": "small", "order": 2},
            {"title": "Onsets per month",
             "query": "SELECT date_trunc('month', onset_date)::DATE AS month, CASE WHEN is_serious = 1 "
                      "THEN 'serious' ELSE 'non-serious' END AS seriousness,\n       count(*) AS events\n"
                      "FROM safety.adverse_events\nGROUP BY ALL\n",
             "chart": {"mark": "area", "x": "month", "y": "events", "color": "seriousness"},
             "size": "medium", "order": 3},
            {"title": "Serious adverse events",
             "description": "Reads safety.serious_adverse_events, restricted to safety officers and stewards.",
             "query": "SELECT ae_id, trial_id, arm, full_name, meddra_term, severity_grade, outcome, onset_date\n"
                      "FROM safety.serious_adverse_events\nORDER BY onset_date DESC\n",
             "size": "medium", "order": 4},
        ],
    },
}
