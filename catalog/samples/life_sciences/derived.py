"""Life-sciences derived products: safety listings and the de-identified outcomes shared with partners."""

from __future__ import annotations

from datetime import datetime

from catalog.samples._spec import (
    Col, Product, accepted, expression, fresh, in_range, not_null, row_count, sla, unique,
)
from catalog.samples.life_sciences.sources import AISHA, LUCAS, PRIYA


def products(anchor: datetime) -> list[Product]:
    today = anchor.date().isoformat()
    return [
        Product("safety", "serious_adverse_events", "Serious adverse event line listing",
                "Serious adverse events with the subject's identity and case narrative, for expedited "
                "regulatory reporting. Restricted to the safety team and stewards.",
                AISHA, "sql", [
                    Col("ae_id", "VARCHAR", "Adverse event key", key=True),
                    Col("patient_id", "VARCHAR", "Subject key", "identifier", True),
                    Col("full_name", "VARCHAR", "Subject's name", "name"),
                    Col("birth_date", "DATE", "Date of birth", "birth_date"),
                    Col("trial_id", "VARCHAR", "Trial"),
                    Col("arm", "VARCHAR", "Randomised arm"),
                    Col("meddra_term", "VARCHAR", "MedDRA preferred term"),
                    Col("severity_grade", "BIGINT", "CTCAE grade"),
                    Col("outcome", "VARCHAR", "Outcome of the event"),
                    Col("onset_date", "DATE", "Onset date"),
                    Col("reported_at", "TIMESTAMP", "When the site reported it"),
                    Col("narrative", "VARCHAR", "Case narrative", "health"),
                ], sql="""
SELECT ae.ae_id, ae.patient_id, p.full_name, p.birth_date, p.trial_id, p.arm,
       ae.meddra_term, ae.severity_grade, ae.outcome, ae.onset_date, ae.reported_at, ae.narrative
FROM safety.adverse_events AS ae
JOIN clinical.patients AS p ON p.patient_id = ae.patient_id
WHERE ae.is_serious = 1
""", version="1.1.0", tags=["safety", "sae", "expedited-reporting", "pharmacovigilance"],
                quality=[not_null("meddra_term"),
                         expression("reported_at <= CAST(onset_date AS TIMESTAMP) + INTERVAL 15 DAY",
                                    name="reported within 15 days"), fresh()],
                sla=sla("reported_at"), access={"restricted": True, "roles": ["steward", "safety_officer"]}),
        Product("safety", "signal_summary", "Safety signal summary",
                "Adverse event incidence per trial, arm and MedDRA term: the table the safety review board "
                "scans for signals (higher incidence on drug than on placebo).",
                PRIYA, "sql", [
                    Col("trial_id", "VARCHAR", "Trial", key=True),
                    Col("arm", "VARCHAR", "Randomised arm", key=True),
                    Col("meddra_term", "VARCHAR", "MedDRA preferred term", key=True),
                    Col("events", "BIGINT", "Number of events"),
                    Col("patients_with_event", "BIGINT", "Subjects with at least one such event"),
                    Col("serious_events", "BIGINT", "Serious events"),
                    Col("incidence_pct", "DOUBLE", "Subjects with the event per 100 subjects in the arm"),
                    Col("last_reported_at", "TIMESTAMP", "Latest report included"),
                ], sql="""
WITH exposure AS (
    SELECT trial_id, arm, count(DISTINCT patient_id) AS patients
    FROM clinical.patients
    GROUP BY trial_id, arm
)
SELECT p.trial_id, p.arm, ae.meddra_term,
       count(*) AS events,
       count(DISTINCT ae.patient_id) AS patients_with_event,
       CAST(sum(ae.is_serious) AS BIGINT) AS serious_events,
       round(100.0 * count(DISTINCT ae.patient_id) / e.patients, 2) AS incidence_pct,
       max(ae.reported_at) AS last_reported_at
FROM safety.adverse_events AS ae
JOIN clinical.patients AS p ON p.patient_id = ae.patient_id
JOIN exposure AS e ON e.trial_id = p.trial_id AND e.arm = p.arm
GROUP BY p.trial_id, p.arm, ae.meddra_term, e.patients
""", version="1.0.0", tags=["safety", "signal-detection", "incidence"],
                quality=[unique("trial_id", "arm", "meddra_term"), in_range("incidence_pct", min=0, max=100),
                         fresh()],
                sla=sla("last_reported_at")),
        Product("research", "shared_outcomes", "De-identified patient outcomes",
                "One row per subject joining demographics (clinical), vital signs (clinical.visits), lab results "
                "(lab) and adverse events (safety), with age banded: the dataset shared with research partners. "
                "patient_id is a masked token for every role but stewards.",
                LUCAS, "sql", [
                    Col("patient_id", "VARCHAR", "Subject key (a token unless you are a steward)", "identifier", True),
                    Col("trial_id", "VARCHAR", "Trial"),
                    Col("arm", "VARCHAR", "Randomised arm"),
                    Col("sex", "VARCHAR", "Sex at birth"),
                    Col("age_band", "VARCHAR", "Age in decades at the snapshot, e.g. 40s"),
                    Col("visits", "BIGINT", "Study visits attended"),
                    Col("max_systolic_bp", "BIGINT", "Highest systolic blood pressure recorded"),
                    Col("mean_weight_kg", "DOUBLE", "Mean body weight over visits"),
                    Col("lab_results", "BIGINT", "Lab results on file"),
                    Col("abnormal_results", "BIGINT", "Lab results outside the reference interval"),
                    Col("adverse_events", "BIGINT", "Adverse events reported"),
                    Col("serious_events", "BIGINT", "Serious adverse events reported"),
                    Col("updated_at", "TIMESTAMP", "Last change to the subject record"),
                ], sql=f"""
WITH vitals AS (
    SELECT patient_id, count(*) AS visits, max(systolic_bp) AS max_systolic_bp,
           round(avg(weight_kg), 1) AS mean_weight_kg
    FROM clinical.visits
    GROUP BY patient_id
), labs AS (
    SELECT s.patient_id, count(*) AS lab_results,
           count(*) FILTER (WHERE r.abnormal_flag <> 'N') AS abnormal_results
    FROM lab.samples AS s
    JOIN lab.results AS r ON r.sample_id = s.sample_id
    GROUP BY s.patient_id
), events AS (
    SELECT patient_id, count(*) AS adverse_events, CAST(sum(is_serious) AS BIGINT) AS serious_events
    FROM safety.adverse_events
    GROUP BY patient_id
)
SELECT p.patient_id, p.trial_id, p.arm, p.sex,
       CAST(date_diff('year', p.birth_date, DATE '{today}') // 10 * 10 AS VARCHAR) || 's' AS age_band,
       coalesce(v.visits, 0) AS visits,
       v.max_systolic_bp,
       v.mean_weight_kg,
       coalesce(l.lab_results, 0) AS lab_results,
       coalesce(l.abnormal_results, 0) AS abnormal_results,
       coalesce(e.adverse_events, 0) AS adverse_events,
       coalesce(e.serious_events, 0) AS serious_events,
       p.updated_at
FROM clinical.patients AS p
LEFT JOIN vitals AS v ON v.patient_id = p.patient_id
LEFT JOIN labs AS l ON l.patient_id = p.patient_id
LEFT JOIN events AS e ON e.patient_id = p.patient_id
""", version="2.1.0", tags=["research", "data-sharing", "de-identified", "outcomes"],
                quality=[not_null("patient_id"), accepted("arm", ["placebo", "low_dose", "high_dose"]),
                         accepted("sex", ["F", "M"]), row_count(min=1000), fresh()],
                sla=sla("updated_at")),
        Product("research", "cohort_summary", "Cohort summary for partners",
                "Aggregates per trial and arm built on the shared outcomes: what research partners see in the "
                "partner portal. Restricted to partners and stewards.",
                LUCAS, "sql", [
                    Col("trial_id", "VARCHAR", "Trial", key=True),
                    Col("arm", "VARCHAR", "Randomised arm", key=True),
                    Col("patients", "BIGINT", "Subjects in the arm"),
                    Col("mean_visits", "DOUBLE", "Mean visits attended"),
                    Col("pct_with_abnormal_labs", "DOUBLE", "Subjects with an abnormal lab result, in %"),
                    Col("pct_with_serious_ae", "DOUBLE", "Subjects with a serious adverse event, in %"),
                    Col("updated_at", "TIMESTAMP", "Latest subject update included"),
                ], sql="""
SELECT trial_id, arm,
       count(*) AS patients,
       round(avg(visits), 1) AS mean_visits,
       round(100.0 * count(*) FILTER (WHERE abnormal_results > 0) / count(*), 1) AS pct_with_abnormal_labs,
       round(100.0 * count(*) FILTER (WHERE serious_events > 0) / count(*), 1) AS pct_with_serious_ae,
       max(updated_at) AS updated_at
FROM research.shared_outcomes
GROUP BY trial_id, arm
""", version="1.0.0", tags=["research", "partners", "cohorts", "aggregates"],
                quality=[unique("trial_id", "arm"), in_range("pct_with_serious_ae", min=0, max=100),
                         row_count(min=1)],
                sla=sla("updated_at"), access={"restricted": True, "roles": ["steward", "research_partner"]}),
    ]
