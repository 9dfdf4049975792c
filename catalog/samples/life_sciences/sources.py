"""Life-sciences products read in place: the EDC's DuckDB file, LIMS and safety SQLite databases,
parquet and CSV exports, and partner deliveries; the seeded defects live here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from catalog.samples._gen import (
    after, choice, cycle, day, derive, digits, email_of, ident, integer, lookup, percent, person_name,
    phone, pick, rand, ref, seq, timestamp, until,
)
from catalog.samples._spec import (
    STALE_DAYS, Col, Defect, Product, accepted, expression, fresh, in_range, not_null, references, regex,
    row_count, sla, stale_end, unique,
)

MARIA, PRIYA, KENJI, AISHA, LUCAS, SOFIA = (f"{n}@pharma.example" for n in (
    "maria.rossi", "priya.nair", "kenji.tanaka", "aisha.bello", "lucas.martin", "sofia.costa"))

INDICATIONS = ("type 2 diabetes", "hypertension", "rheumatoid arthritis", "non-small cell lung cancer",
               "major depressive disorder", "chronic kidney disease", "atopic dermatitis", "long COVID")
CITIES = {"Boston": "US", "Houston": "US", "Toronto": "CA", "London": "GB", "Basel": "CH", "Lyon": "FR",
          "Madrid": "ES", "Warsaw": "PL", "Tokyo": "JP", "Singapore": "SG", "Sydney": "AU", "Sao Paulo": "BR"}
TESTS = {  # code: (unit, reference low, reference high)
    "ALT": ("U/L", 7.0, 56.0), "AST": ("U/L", 10.0, 40.0), "CREAT": ("mg/dL", 0.6, 1.3),
    "HGB": ("g/dL", 12.0, 17.5), "WBC": ("10^9/L", 4.0, 11.0), "GLU": ("mg/dL", 70.0, 99.0),
    "HBA1C": ("%", 4.0, 5.6), "PLT": ("10^9/L", 150.0, 400.0)}
TERMS = ("Headache", "Nausea", "Fatigue", "Dizziness", "Rash", "Hypertension", "Alanine aminotransferase increased",
         "Injection site reaction", "Diarrhoea", "Hypoglycaemia", "Arthralgia", "Insomnia")
OUTCOMES = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae")
PARTNERS = {"Helix University": "US", "Nordic Genome Centre": "SE", "Institut Lumière": "FR",
            "Pacific Clinical Research (CRO)": "SG", "Andes Biobank": "CL", "Rhine Translational Lab": "DE",
            "Maple Health Data Trust": "CA", "Kyoto Precision Medicine": "JP"}

DUPLICATE_PATIENT_ROWS = (150, 480, 1020)
OUT_OF_RANGE_BP_ROWS = (33, 1500, 2890, 4011, 6543)
ORPHAN_SAMPLE_ROWS = (7, 640, 1333, 2050, 2600, 3001, 3333, 3550)
NULL_GRADE_ROWS = (12, 140, 388, 611, 870)


def _result_value(i: pl.Expr, s: int) -> pl.Expr:
    """Mostly inside the test's reference interval, about a fifth outside it."""
    low = pl.col("test_code").replace_strict(list(TESTS), [t[1] for t in TESTS.values()])
    high = pl.col("test_code").replace_strict(list(TESTS), [t[2] for t in TESTS.values()])
    return (low + (high - low) * ((rand(i, s) % 1300).cast(pl.Float64) / 1000 - 0.15)).round(2).clip(0.0, None)


def _abnormal_flag(i: pl.Expr, s: int) -> pl.Expr:
    low = pl.col("test_code").replace_strict(list(TESTS), [t[1] for t in TESTS.values()])
    high = pl.col("test_code").replace_strict(list(TESTS), [t[2] for t in TESTS.values()])
    return (pl.when(pl.col("value") > high).then(pl.lit("H"))
            .when(pl.col("value") < low).then(pl.lit("L")).otherwise(pl.lit("N")))


def products(scale: int, anchor: datetime) -> list[Product]:
    n_trials, n_sites, n_pat, n_samples, n_partners = 12 * scale, 40 * scale, 1200 * scale, 3600 * scale, 8 * scale
    today = anchor.date()
    stale = stale_end(anchor)

    def recent(days: int):
        return timestamp(anchor - timedelta(days=days), anchor)

    patient_ref = Col("patient_id", "VARCHAR", "Study subject (clinical.patients)", "identifier",
                      gen=ref("P", 7, n_pat, avoid=DUPLICATE_PATIENT_ROWS))

    def visit_date(i: pl.Expr, s: int) -> pl.Expr:  # every 28 days per subject, the last one yesterday
        weeks_back = (6 - pl.col("visit_number")) * 28 + (rand(i // 6, s) % 14).cast(pl.Int64) + 1
        return pl.lit(today) - pl.duration(days=weeks_back)

    def weight(i: pl.Expr, s: int) -> pl.Expr:  # the subject's own weight, give or take 1.5 kg
        base = 48 + (rand(i // 6, s) % 820).cast(pl.Float64) / 10
        return (base + ((rand(i, s + 1) % 31).cast(pl.Float64) - 15) / 10).round(1)

    def is_serious(i: pl.Expr, s: int) -> pl.Expr:
        grade = pl.col("severity_grade")
        return ((grade >= 4) | ((grade == 3) & (percent(i, s) < 30))).cast(pl.Int64)

    def outcome(i: pl.Expr, s: int) -> pl.Expr:
        return pl.when(pl.col("severity_grade") == 5).then(pl.lit("fatal")).otherwise(
            pick(rand(i, s), OUTCOMES[:1] * 6 + OUTCOMES[1:2] * 2 + OUTCOMES[2:]))

    def narrative(i: pl.Expr, s: int) -> pl.Expr:
        return pl.concat_str([pl.lit("Subject reported "), pl.col("meddra_term").str.to_lowercase(),
                              pl.lit(" (grade "), pl.col("severity_grade").cast(pl.String), pl.lit(") after dose "),
                              (rand(i, s) % 6 + 1).cast(pl.String), pl.lit("; outcome "), pl.col("outcome"),
                              pl.lit(".")])

    results = [
        Col("result_id", "VARCHAR", "Result key", key=True, gen=seq("R", 9)),
        Col("sample_id", "VARCHAR", "Sample tested (lab.samples)", gen=ref("S-", 6, n_samples)),
        Col("test_code", "VARCHAR", "Local test code (ALT, AST, CREAT, HGB, WBC, GLU, HBA1C, PLT)",
            gen=choice(list(TESTS))),
        Col("value", "DOUBLE", "Measured value, in `unit`", gen=_result_value),
        Col("unit", "VARCHAR", "Unit of the value", gen=lookup("test_code", {k: v[0] for k, v in TESTS.items()})),
        Col("reference_low", "DOUBLE", "Lower bound of the reference interval",
            gen=lookup("test_code", {k: v[1] for k, v in TESTS.items()})),
        Col("reference_high", "DOUBLE", "Upper bound of the reference interval",
            gen=lookup("test_code", {k: v[2] for k, v in TESTS.items()})),
        Col("abnormal_flag", "VARCHAR", "H above, L below the reference interval, N normal", gen=_abnormal_flag),
        Col("resulted_at", "TIMESTAMP", "When the result was released", gen=recent(120)),
    ]
    return [
        Product("clinical", "trials", "Clinical trials",
                "Registry of the sponsor's interventional trials: phase, indication, status and enrolment target.",
                MARIA, "csv", [
                    Col("trial_id", "VARCHAR", "ClinicalTrials.gov identifier", key=True, gen=seq("NCT", 8, 61000001)),
                    Col("compound", "VARCHAR", "Investigational product code", gen=seq("MW-", 4, 101)),
                    Col("indication", "VARCHAR", "Disease studied", gen=cycle(INDICATIONS)),
                    Col("title", "VARCHAR", "Short study title",
                        gen=derive(lambda: pl.concat_str([pl.lit("A study of "), pl.col("compound"), pl.lit(" in "),
                                                          pl.col("indication")]))),
                    Col("phase", "VARCHAR", "Phase 1 to Phase 4",
                        gen=choice(["Phase 1", "Phase 2", "Phase 3", "Phase 4"], [2, 4, 5, 1])),
                    Col("status", "VARCHAR", "Recruitment status",
                        gen=choice(["recruiting", "active_not_recruiting", "completed", "terminated"], [5, 4, 2, 1])),
                    Col("start_date", "DATE", "First patient in", gen=day(date(2021, 1, 1), date(2025, 6, 1))),
                    Col("planned_enrollment", "BIGINT", "Target number of subjects", gen=integer(60, 600)),
                    Col("updated_at", "TIMESTAMP", "Last registry update", gen=recent(30)),
                ], path="data/trials.csv", rows=12, version="1.2.0", tags=["trials", "registry", "clinical"],
                quality=[unique("trial_id"), regex("trial_id", r"^NCT\d{8}$"),
                         accepted("phase", ["Phase 1", "Phase 2", "Phase 3", "Phase 4"]),
                         accepted("status", ["recruiting", "active_not_recruiting", "completed", "terminated"]),
                         in_range("planned_enrollment", min=1, max=5000), fresh()],
                sla=sla("updated_at")),
        Product("clinical", "sites", "Investigator sites",
                "Hospitals and clinics running the trials, with their principal investigator.",
                MARIA, "csv", [
                    Col("site_id", "VARCHAR", "Site key", key=True, gen=seq("SITE-", 3)),
                    Col("city", "VARCHAR", "City", gen=cycle(list(CITIES))),
                    Col("country", "VARCHAR", "ISO 3166 alpha-2 country code", gen=lookup("city", CITIES)),
                    Col("principal_investigator", "VARCHAR", "Principal investigator", "name", gen=person_name()),
                    Col("investigator_email", "VARCHAR", "Investigator's e-mail", "email",
                        gen=email_of("principal_investigator", ["hospital.example", "university.example"])),
                    Col("activated_on", "DATE", "Site activation date", gen=day(date(2021, 1, 1), date(2025, 12, 1))),
                ], path="data/sites.csv", rows=40, version="1.0.0", tags=["sites", "investigators", "clinical"],
                quality=[unique("site_id"), not_null("principal_investigator"),
                         accepted("country", sorted(set(CITIES.values())))]),
        Product("clinical", "patients", "Enrolled patients",
                "One row per randomised subject: identity held by the site, demographics, trial and arm.",
                MARIA, "parquet", [
                    Col("patient_id", "VARCHAR", "Subject key; joins visits, samples and adverse events",
                        "identifier", True, seq("P", 7)),
                    Col("trial_id", "VARCHAR", "Trial (clinical.trials)",
                        gen=ref("NCT", 8, n_trials, offset=61000001)),
                    Col("site_id", "VARCHAR", "Enrolling site (clinical.sites)", gen=ref("SITE-", 3, n_sites)),
                    Col("full_name", "VARCHAR", "Subject's name, held by the site", "name", gen=person_name()),
                    Col("birth_date", "DATE", "Date of birth", "birth_date", gen=day(date(1945, 1, 1), date(2004, 1, 1))),
                    Col("sex", "VARCHAR", "Sex at birth (F or M)", gen=choice(["F", "M"])),
                    Col("phone", "VARCHAR", "Contact phone for follow-up visits", "phone", gen=phone()),
                    Col("postal_code", "VARCHAR", "Postal code of residence", "address", gen=digits(5)),
                    Col("arm", "VARCHAR", "Randomised arm", gen=choice(["placebo", "low_dose", "high_dose"])),
                    Col("enrolled_at", "TIMESTAMP", "Randomisation time",
                        gen=timestamp(datetime(2025, 1, 1), anchor - timedelta(days=200))),
                    Col("updated_at", "TIMESTAMP", "Last change to the subject record", gen=recent(30)),
                ], path="data/patients.parquet", rows=1200, version="3.1.0",
                tags=["patients", "subjects", "demographics", "clinical", "pii"],
                quality=[unique("patient_id"), not_null("trial_id"), references("trial_id", "clinical.trials"),
                         accepted("arm", ["placebo", "low_dose", "high_dose"]), accepted("sex", ["F", "M"]),
                         in_range("birth_date", min="1920-01-01", max="2008-12-31"), fresh()],
                sla=sla("updated_at"),
                defects=[Defect("duplicate_keys", "3 patient_ids occur twice: subjects re-randomised at a second "
                                "site kept their first id (count(*) - count(DISTINCT patient_id) = 3)",
                                ("patient_id",), "patient_id unique", DUPLICATE_PATIENT_ROWS)]),
        Product("clinical", "visits", "Study visits and vital signs",
                "Vital signs captured at each 4-weekly study visit in the EDC system.",
                PRIYA, "duckdb", [
                    Col("visit_id", "VARCHAR", "Visit key", key=True, gen=seq("V", 8)),
                    Col("patient_id", "VARCHAR", "Subject (clinical.patients)", "identifier", True,
                        lambda i, s: ident("P", 7, i // 6 + 1)),
                    Col("visit_number", "BIGINT", "Visit 1 to 6", key=True, gen=lambda i, s: i % 6 + 1),
                    Col("visit_date", "DATE", "Date of the visit", gen=visit_date),
                    Col("weight_kg", "DOUBLE", "Body weight in kg", gen=weight),
                    Col("systolic_bp", "BIGINT", "Systolic blood pressure in mmHg", gen=integer(98, 165)),
                    Col("diastolic_bp", "BIGINT", "Diastolic blood pressure in mmHg", gen=integer(60, 95)),
                    Col("heart_rate", "BIGINT", "Heart rate in beats per minute", gen=integer(52, 104)),
                    Col("updated_at", "TIMESTAMP", "Last edit of the visit form",
                        gen=lambda i, s: pl.col("visit_date").cast(pl.Datetime("us"))
                        + pl.duration(hours=(rand(i, s) % 10).cast(pl.Int64) + 8)),
                ], path="data/edc.duckdb", table="visits", rows=7200, version="2.0.0",
                tags=["visits", "vital-signs", "edc", "clinical"],
                quality=[unique("visit_id"), unique("patient_id", "visit_number"),
                         in_range("systolic_bp", min=70, max=250), in_range("diastolic_bp", min=40, max=150),
                         in_range("weight_kg", min=30, max=250, severity="warning"),
                         expression("diastolic_bp < systolic_bp"), row_count(min=5000), fresh()],
                sla=sla("updated_at"),
                defects=[Defect("out_of_range", "5 systolic blood pressures are 999, the cuff's error code",
                                ("systolic_bp",), "systolic_bp in range", OUT_OF_RANGE_BP_ROWS, 999)]),
        Product("lab", "samples", "Biological samples",
                "Samples collected at visits and received by the central laboratory (LIMS).",
                KENJI, "sqlite", [
                    Col("sample_id", "VARCHAR", "Barcode on the tube", key=True, gen=seq("S-", 6)),
                    patient_ref,
                    Col("specimen_type", "VARCHAR", "whole_blood, plasma, serum or urine",
                        gen=choice(["whole_blood", "plasma", "serum", "urine"], [4, 3, 2, 1])),
                    Col("collected_at", "TIMESTAMP", "Collection time at the site", gen=recent(120)),
                    Col("received_at", "TIMESTAMP", "Arrival at the laboratory",
                        gen=until(after("collected_at", 2, 48), anchor)),
                    Col("lab_site", "VARCHAR", "Laboratory that processed it",
                        gen=choice(["Boston", "Basel", "Singapore"])),
                    Col("sample_condition", "VARCHAR", "ok, hemolyzed or insufficient_volume",
                        gen=choice(["ok", "hemolyzed", "insufficient_volume"], [94, 4, 2])),
                ], path="data/lims.sqlite", table="samples", rows=3600, version="1.4.0",
                tags=["samples", "lims", "lab", "biobank"],
                quality=[unique("sample_id"), regex("sample_id", r"^S-\d{6,}$"),
                         references("patient_id", "clinical.patients"),
                         accepted("specimen_type", ["whole_blood", "plasma", "serum", "urine"]),
                         expression("received_at >= collected_at"), fresh()],
                sla=sla("collected_at"),
                defects=[Defect("orphans", "8 samples carry patient_ids that clinical.patients does not know "
                                "(mislabelled tubes)", ("patient_id",), "patient_id references clinical.patients",
                                ORPHAN_SAMPLE_ROWS, [f"PX{n + 1:06d}" for n in range(len(ORPHAN_SAMPLE_ROWS))])]),
        Product("lab", "results", "Laboratory results",
                "Chemistry and haematology results with reference intervals and abnormal flags; the largest product.",
                KENJI, "parquet", results, path="data/results.parquet", rows=20_000, version="2.2.0",
                tags=["lab", "results", "chemistry", "haematology"],
                quality=[unique("result_id"), references("sample_id", "lab.samples"),
                         accepted("test_code", list(TESTS)), accepted("abnormal_flag", ["N", "H", "L"]),
                         not_null("value"), expression("reference_low < reference_high"),
                         row_count(min=15_000), fresh()],
                sla=sla("resulted_at")),
        Product("lab", "instrument_runs", "", "", SOFIA, "csv", [
            Col("run_id", "VARCHAR", gen=seq("RUN", 6)),
            Col("instrument", "VARCHAR", gen=choice(["Cobas c 503", "Sysmex XN-1000", "Alinity ci", "Atellica CH"])),
            Col("assay", "VARCHAR", gen=choice(list(TESTS))),
            Col("operator_name", "VARCHAR", gen=person_name()),
            Col("started_at", "TIMESTAMP", gen=recent(60)),
            Col("finished_at", "TIMESTAMP", gen=until(after("started_at", 1, 6), anchor)),
            Col("qc_passed", "BOOLEAN", gen=lambda i, s: percent(i, s) < 96),
        ], path="data/instrument_runs.csv", rows=300,
            defects=[Defect("undocumented", "No title, no description, no column descriptions, no checks, no SLA"),
                     Defect("unclassified_pii", "operator_name holds people's names but is not classified as PII",
                            ("operator_name",))]),
        Product("safety", "adverse_events", "Adverse events",
                "Adverse events reported during the trials, coded to MedDRA preferred terms and graded (CTCAE).",
                AISHA, "sqlite", [
                    Col("ae_id", "VARCHAR", "Adverse event key", key=True, gen=seq("AE-", 6)),
                    patient_ref,
                    Col("meddra_term", "VARCHAR", "MedDRA preferred term", gen=choice(TERMS)),
                    Col("severity_grade", "BIGINT", "CTCAE grade, 1 (mild) to 5 (death)",
                        gen=choice([1, 2, 3, 4, 5], [40, 30, 18, 9, 3])),
                    Col("is_serious", "BIGINT", "1 when the event is serious (SAE), else 0", gen=is_serious),
                    Col("outcome", "VARCHAR", "Outcome of the event", gen=outcome),
                    Col("onset_date", "DATE", "Onset date", gen=day(today - timedelta(days=180), today - timedelta(days=2))),
                    Col("reported_at", "TIMESTAMP", "When the site reported it",
                        gen=until(lambda i, s: pl.col("onset_date").cast(pl.Datetime("us"))
                                  + pl.duration(hours=(rand(i, s) % 238).cast(pl.Int64) + 2), anchor)),
                    Col("narrative", "VARCHAR", "Free-text case narrative", "health", gen=narrative),
                ], path="data/safety.sqlite", table="adverse_events", rows=900, version="4.0.1",
                tags=["safety", "adverse-events", "pharmacovigilance", "meddra"],
                quality=[unique("ae_id"), not_null("severity_grade"), in_range("severity_grade", min=1, max=5),
                         accepted("is_serious", [0, 1]), accepted("outcome", list(OUTCOMES) + ["fatal"]),
                         references("patient_id", "clinical.patients"),
                         expression("CAST(reported_at AS DATE) >= onset_date"), fresh()],
                sla=sla("reported_at"),
                defects=[Defect("nulls", "5 adverse events have no severity grade (NULL): the site left the field empty",
                                ("severity_grade",), "severity_grade not null", NULL_GRADE_ROWS)]),
        Product("research", "partners", "Research partners",
                "Universities, biobanks and CROs the sponsor shares data with, and their data agreements.",
                LUCAS, "csv", [
                    Col("partner_id", "VARCHAR", "Partner key", key=True, gen=seq("PRT-", 2)),
                    Col("institution", "VARCHAR", "Partner institution", gen=cycle(list(PARTNERS))),
                    Col("country", "VARCHAR", "ISO 3166 alpha-2 country code", gen=lookup("institution", PARTNERS)),
                    Col("agreement_type", "VARCHAR", "data_use_agreement, research_collaboration or cro_services",
                        gen=choice(["data_use_agreement", "research_collaboration", "cro_services"])),
                    Col("contact_name", "VARCHAR", "Partner's data contact", "name", gen=person_name()),
                    Col("contact_email", "VARCHAR", "Partner's data contact e-mail", "email",
                        gen=email_of("contact_name", ["university.example", "biobank.example", "cro.example"])),
                    Col("agreement_expires", "DATE", "End of the data agreement",
                        gen=day(date(2027, 1, 1), date(2029, 12, 31))),
                ], path="data/partners.csv", rows=8, version="1.0.0", tags=["partners", "data-sharing", "agreements"],
                quality=[unique("partner_id"), not_null("contact_email"),
                         accepted("agreement_type", ["data_use_agreement", "research_collaboration", "cro_services"]),
                         in_range("agreement_expires", min=today.isoformat(), severity="warning")]),
        Product("research", "genomic_variants", "Genomic variants from partners",
                "Germline variants called by partner sequencing labs for consenting subjects, delivered weekly.",
                LUCAS, "parquet", [
                    Col("variant_id", "VARCHAR", "Variant call key", key=True, gen=seq("GV", 6)),
                    patient_ref,
                    Col("partner_id", "VARCHAR", "Sequencing partner (research.partners)",
                        gen=ref("PRT-", 2, n_partners)),
                    Col("gene", "VARCHAR", "HGNC gene symbol",
                        gen=choice(["BRCA1", "BRCA2", "TP53", "EGFR", "KRAS", "CYP2D6", "APOE", "TCF7L2"])),
                    Col("hgvs", "VARCHAR", "Coding DNA change (HGVS c. notation)", "health",
                        gen=lambda i, s: pl.concat_str([pl.lit("c."), ((rand(i, s) % 3000) + 1).cast(pl.String),
                                                        pick(rand(i, s + 1), ["A>G", "C>T", "G>A", "T>C", "A>C", "G>T"])])),
                    Col("zygosity", "VARCHAR", "heterozygous or homozygous",
                        gen=choice(["heterozygous", "homozygous"], [85, 15])),
                    Col("classification", "VARCHAR", "ACMG classification",
                        gen=choice(["pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign",
                                    "benign"], [5, 8, 40, 27, 20])),
                    Col("reported_at", "TIMESTAMP", "When the partner delivered the call",
                        gen=timestamp(stale - timedelta(days=90), stale)),
                ], path="data/genomic_variants.parquet", rows=400, version="0.8.0",
                tags=["genomics", "variants", "partners", "precision-medicine"],
                quality=[unique("variant_id"), regex("hgvs", r"^c\.\d+[ACGT]>[ACGT]$"),
                         accepted("classification", ["pathogenic", "likely_pathogenic", "uncertain_significance",
                                                     "likely_benign", "benign"]),
                         references("partner_id", "research.partners"), fresh()],
                sla=sla("reported_at", 168),
                defects=[Defect("stale", f"Partner deliveries stopped: the last call was reported "
                                f"{stale:%Y-%m-%d}, {STALE_DAYS} days before the snapshot, against a weekly "
                                "(168-hour) SLA", ("reported_at",), "freshness")]),
        Product("research", "partner_lab_results", "Lab results for the partner portal",
                "Lab results exported by hand for the partner portal.",
                KENJI, "parquet", [c for c in results if c.name not in ("reference_low", "reference_high")],
                path="data/partner_lab_results.parquet", rows=18_000, seed="lab.results", version="0.3.0",
                tags=["lab", "results", "partners", "export"], quality=[unique("result_id")],
                sla=sla("resulted_at"),
                defects=[Defect("duplicate_product", "A copy of lab.results: the same result_id values (the first "
                                "90% of results) and the same values, units and flags, kept by another domain "
                                "(multi-domain duplication)", ("result_id",), copy_of="lab.results")]),
    ]
