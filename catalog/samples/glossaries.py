"""The business glossary of each sample mesh: real terms of its industry, and where each is linked.

`write_mesh` writes `glossary/<mesh>.yaml` from `TERMS` and adds `terms:` to the products and columns
`LINKS` names (product id -> {"": product terms, column: column terms}). Every term id a link names is
defined here, and `related` points to broader or neighbouring terms without a cycle.
"""

from __future__ import annotations

from typing import Any

from catalog.samples.banking.sources import CHEN, DANA, ELIF, FARAH
from catalog.samples.life_sciences.sources import AISHA, KENJI, LUCAS, MARIA
from catalog.samples.supply_chain.sources import OLGA, RAJ, SAM


def term(name: str, definition: str, *, synonyms: tuple[str, ...] = (), abbreviations: tuple[str, ...] = (),
         related: tuple[str, ...] = (), steward: str, status: str = "approved", id: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"id": id or "_".join(name.lower().replace("-", " ").split()), "name": name,
                           "definition": definition}
    if synonyms:
        out["synonyms"] = list(synonyms)
    if abbreviations:
        out["abbreviations"] = list(abbreviations)
    if related:
        out["related"] = list(related)
    out["steward"] = steward
    out["status"] = status
    return out


_BANK = FARAH
_RISK = DANA
BANKING = [
    term("Customer", "A person or business that holds at least one product with the bank and has passed "
         "onboarding (KYC).", synonyms=("client", "account holder"), steward=_BANK),
    term("Active customer", "A customer with at least one open account and a transaction or login in the last "
         "90 days.", synonyms=("engaged customer",), related=("customer",), steward=_BANK),
    term("Know your customer", "The identity verification a customer passes at onboarding, as anti-money-laundering "
         "rules require.", abbreviations=("KYC",), related=("customer",), steward=_BANK),
    term("Customer 360", "One row per customer joining retail, cards and risk: everything the bank knows about "
         "the relationship.", synonyms=("single customer view", "golden record"), related=("customer",),
         steward=_BANK),
    term("Account balance", "The ledger balance of a deposit or loan account at the end of the last posting day.",
         synonyms=("balance", "outstanding balance"), steward=_BANK),
    term("Exposure", "What the bank stands to lose on a customer if they default now: drawn balances plus the "
         "expected draw of undrawn limits.", synonyms=("exposure at default", "credit exposure"),
         abbreviations=("EAD",), related=("account_balance",), steward=_RISK),
    term("Probability of default", "The modelled likelihood that a borrower misses payments for 90 days or more "
         "within the next twelve months.", synonyms=("default probability", "default likelihood"),
         abbreviations=("PD",), steward=_RISK),
    term("Expected loss", "Probability of default times exposure at default times loss given default: the loss "
         "the bank provisions for.", abbreviations=("EL",), related=("probability_of_default", "exposure"),
         steward=_RISK),
    term("Credit score", "The bureau's score of a customer's creditworthiness, 300 to 850; 999 means the bureau "
         "has no score.", synonyms=("bureau score", "FICO score"), steward=_RISK),
    term("Rating band", "The internal risk grade a credit score falls in, from A (lowest risk) to E.",
         synonyms=("risk grade", "credit grade"), related=("credit_score",), steward=_RISK),
    term("Credit limit", "The most a customer may owe on a card or credit line.", synonyms=("card limit",),
         steward=_RISK),
    term("Card transaction", "One authorisation request on a card at a merchant, approved or declined.",
         synonyms=("card payment", "authorisation"), steward=CHEN),
    term("Fraud alert", "A card transaction a fraud rule flagged for review.", synonyms=("fraud case",),
         related=("card_transaction",), steward=_RISK),
    term("Loan application", "A customer's request for a loan, with the amount, term and the decision taken.",
         synonyms=("credit application",), steward=_RISK),
    term("Consent purpose", "The use of personal data a customer agreed or refused: marketing mail, profiling, "
         "sale of data, targeted ads.", synonyms=("processing purpose", "consent"), steward=_BANK),
    term("Opt-out of sale", "A consumer's right under the VCDPA to refuse the sale of their personal data.",
         synonyms=("do not sell",), related=("consent_purpose",), steward=_BANK),
    term("Data subject request", "A consumer's request to access, correct, delete or port their personal data; "
         "the VCDPA gives the bank 45 days to answer.", synonyms=("privacy request", "subject access request"),
         abbreviations=("DSR", "DSAR"), steward=_BANK),
    term("Customer segment", "A group of customers with similar engagement and product depth, for campaigns.",
         synonyms=("segment", "micro segment"), related=("customer_360",), steward=ELIF),
    term("Share of wallet", "The part of a customer's banking business held with this bank.", synonyms=("wallet share",),
         steward=ELIF, status="draft"),
]
BANKING_LINKS = {
    "retail.customers": {"": ["customer", "know_your_customer"], "customer_id": ["customer"],
                         "status": ["active_customer"]},
    "retail.accounts": {"balance": ["account_balance"], "customer_id": ["customer"]},
    "cards.cards": {"credit_limit": ["credit_limit"], "customer_id": ["customer"]},
    "cards.card_transactions": {"": ["card_transaction"]},
    "risk.credit_scores": {"score": ["credit_score"], "probability_of_default": ["probability_of_default"],
                           "rating_band": ["rating_band"]},
    "risk.customer_exposure": {"": ["exposure"], "outstanding_balance": ["exposure"],
                               "probability_of_default": ["probability_of_default"],
                               "expected_loss": ["expected_loss"], "credit_score": ["credit_score"]},
    "risk.fraud_alerts": {"": ["fraud_alert"], "card_transaction_id": ["card_transaction"]},
    "risk.loan_applications": {"": ["loan_application"]},
    "marketing.customer_360": {"": ["customer_360"], "total_balance": ["account_balance"],
                               "credit_score": ["credit_score"], "rating_band": ["rating_band"]},
    "marketing.segments": {"segment": ["customer_segment"], "micro_segment": ["customer_segment"]},
    "marketing.campaign_audience": {"segment": ["customer_segment"]},
    "privacy.consents": {"purpose": ["consent_purpose"]},
    "privacy.marketing_permissions": {"": ["consent_purpose"], "sale_opt_in": ["opt_out_of_sale"]},
    "privacy.data_subject_requests": {"": ["data_subject_request"]},
}

_CLIN = MARIA
_SAFE = AISHA
LIFE_SCIENCES = [
    term("Clinical trial", "A study that tests a compound in people under a protocol, in phases I to IV.",
         synonyms=("trial", "study", "clinical study"), steward=_CLIN),
    term("Subject", "A person enrolled in a clinical trial.", synonyms=("patient", "participant",
         "trial subject"), related=("clinical_trial",), steward=_CLIN),
    term("Site", "A hospital or clinic that enrols and follows subjects for a trial.",
         synonyms=("trial site", "investigational site", "study site"), related=("clinical_trial",), steward=_CLIN),
    term("Principal investigator", "The physician responsible for a trial at one site.", abbreviations=("PI",),
         related=("site",), steward=_CLIN),
    term("Treatment arm", "The group of subjects in a trial who receive the same intervention.",
         synonyms=("arm", "study arm", "cohort"), related=("clinical_trial",), steward=_CLIN),
    term("Enrolment", "The moment a subject is randomised into a trial; planned enrolment is the target count.",
         synonyms=("enrollment", "randomisation"), related=("subject",), steward=_CLIN),
    term("Study visit", "A scheduled encounter at which a subject's vitals and samples are taken.",
         synonyms=("visit",), related=("subject",), steward=_CLIN),
    term("Adverse event", "Any untoward medical occurrence in a subject, whether or not caused by the compound.",
         synonyms=("side effect", "adverse reaction"), abbreviations=("AE",), related=("subject",), steward=_SAFE),
    term("Serious adverse event", "An adverse event that results in death, is life-threatening, needs "
         "hospitalisation or causes lasting disability.", abbreviations=("SAE",), related=("adverse_event",),
         steward=_SAFE),
    term("MedDRA term", "The preferred term of the Medical Dictionary for Regulatory Activities that codes an "
         "event.", synonyms=("preferred term",), abbreviations=("PT",), steward=_SAFE),
    term("Severity grade", "The CTCAE grade of an adverse event, 1 (mild) to 5 (death).",
         synonyms=("toxicity grade", "CTCAE grade"), related=("adverse_event",), steward=_SAFE),
    term("Safety signal", "A pattern of events that suggests a new risk of the compound, to be evaluated.",
         synonyms=("signal",), related=("adverse_event",), steward=_SAFE),
    term("Incidence", "The share of subjects in an arm who had an event.", synonyms=("incidence rate",),
         related=("safety_signal",), steward=_SAFE),
    term("Specimen", "Material collected from a subject for testing: blood, serum, urine, tissue.",
         synonyms=("sample", "biosample"), related=("subject",), steward=KENJI),
    term("Lab result", "The measured value of one test on one specimen, with its unit.",
         synonyms=("laboratory result", "test result"), related=("specimen",), steward=KENJI),
    term("Reference range", "The normal interval of a lab test; a value outside it is flagged abnormal.",
         synonyms=("normal range",), related=("lab_result",), steward=KENJI),
    term("Abnormal result", "A lab result outside its reference range.", synonyms=("out of range result",),
         related=("reference_range",), steward=KENJI),
    term("Genomic variant", "A difference of a subject's DNA from the reference genome, in HGVS notation.",
         synonyms=("variant", "mutation"), steward=LUCAS),
    term("Research partner", "An institution that receives pseudonymised trial data under a data sharing "
         "agreement.", synonyms=("partner",), steward=LUCAS),
    term("Source data verification", "Checking trial data against the site's source records.",
         abbreviations=("SDV",), steward=_CLIN, status="draft"),
]
LIFE_SCIENCES_LINKS = {
    "clinical.trials": {"": ["clinical_trial"], "planned_enrollment": ["enrolment"]},
    "clinical.patients": {"": ["subject"], "patient_id": ["subject"], "site_id": ["site"],
                          "arm": ["treatment_arm"], "enrolled_at": ["enrolment"]},
    "clinical.sites": {"": ["site"], "principal_investigator": ["principal_investigator"]},
    "clinical.visits": {"": ["study_visit"], "patient_id": ["subject"]},
    "lab.samples": {"": ["specimen"], "specimen_type": ["specimen"]},
    "lab.results": {"": ["lab_result"], "reference_low": ["reference_range"], "reference_high": ["reference_range"],
                    "abnormal_flag": ["abnormal_result"]},
    "research.partner_lab_results": {"abnormal_flag": ["abnormal_result"]},
    "research.genomic_variants": {"": ["genomic_variant"]},
    "research.partners": {"": ["research_partner"]},
    "research.cohort_summary": {"arm": ["treatment_arm"], "pct_with_serious_ae": ["serious_adverse_event"]},
    "research.shared_outcomes": {"adverse_events": ["adverse_event"], "serious_events": ["serious_adverse_event"]},
    "safety.adverse_events": {"": ["adverse_event"], "meddra_term": ["meddra_term"],
                              "severity_grade": ["severity_grade"], "is_serious": ["serious_adverse_event"]},
    "safety.serious_adverse_events": {"": ["serious_adverse_event"], "meddra_term": ["meddra_term"],
                                      "severity_grade": ["severity_grade"]},
    "safety.signal_summary": {"": ["safety_signal"], "incidence_pct": ["incidence"], "arm": ["treatment_arm"]},
}

_PLAN = SAM
_INV = RAJ
SUPPLY_CHAIN = [
    term("Stock keeping unit", "One distinct item the company stocks and sells, with its own code.",
         synonyms=("item", "article"), abbreviations=("SKU",), id="sku", steward=_INV),
    term("Warehouse", "A site that stores stock and ships orders.", synonyms=("distribution centre", "DC"),
         steward=_INV),
    term("Stock on hand", "Units of a SKU physically counted in a warehouse.", synonyms=("on hand", "inventory"),
         abbreviations=("SOH",), related=("sku",), steward=_INV),
    term("Allocated stock", "Units on hand already promised to open orders.", synonyms=("reserved stock",),
         related=("stock_on_hand",), steward=_INV),
    term("Available to promise", "Units on hand minus allocated: what can still be promised to a customer.",
         synonyms=("available stock", "free stock"), abbreviations=("ATP",), related=("allocated_stock",),
         steward=_INV),
    term("Reorder point", "The stock level at which a replenishment order is placed.", abbreviations=("ROP",),
         related=("stock_on_hand",), steward=_INV),
    term("Stockout", "A SKU with no stock available in a warehouse when demand arrives.",
         synonyms=("out of stock", "stock-out"), abbreviations=("OOS",), related=("available_to_promise",),
         steward=_PLAN),
    term("Lead time", "The days between placing a purchase order and receiving the goods.",
         synonyms=("replenishment lead time", "supplier lead time"), steward=_PLAN),
    term("Purchase order", "A buyer's order to a supplier for a quantity of a SKU at a price.", abbreviations=("PO",),
         related=("lead_time",), steward=OLGA),
    term("Supplier", "A company that sells goods to us under a contract.", synonyms=("vendor",),
         steward=OLGA),
    term("Shipment", "Goods moving from an origin to a warehouse under one carrier.", synonyms=("consignment",),
         steward=_PLAN),
    term("Carrier", "The transport company that moves a shipment.", synonyms=("haulier", "3PL", "freight carrier"),
         related=("shipment",), steward=_PLAN),
    term("Estimated time of arrival", "When a shipment is expected at its destination.", abbreviations=("ETA",),
         related=("shipment",), steward=_PLAN),
    term("On time in full", "The share of shipments delivered by the promised date with the full quantity.",
         synonyms=("on-time delivery", "on-time rate", "delivery performance"), abbreviations=("OTIF",),
         related=("shipment",), steward=_PLAN),
    term("Telemetry reading", "One measurement an IoT tracker sends: temperature, humidity, battery, position.",
         synonyms=("sensor reading", "device reading", "telemetry"), related=("iot_device",), steward=_INV),
    term("IoT device", "A sensor or tracker installed in a warehouse or riding with a shipment.",
         synonyms=("sensor", "tracker"), steward=_INV),
    term("Cold chain", "Keeping temperature-sensitive goods within their range from supplier to shelf.",
         synonyms=("temperature controlled",), related=("telemetry_reading",), steward=_INV),
    term("Shelf life", "How many days an item may be kept before it must be sold or written off.",
         related=("sku",), steward=_INV),
    term("Digital twin", "A live model of warehouses, stock and shipments that planners run scenarios on.",
         steward=_PLAN),
    term("Service level", "The target probability of not running out of stock during a replenishment cycle.",
         synonyms=("cycle service level",), related=("stockout",), steward=_PLAN),
    term("Safety stock", "Stock held above expected demand to absorb variability.", steward=_PLAN,
         status="deprecated", related=("reorder_point",)),
]
SUPPLY_CHAIN_LINKS = {
    "inventory.skus": {"": ["sku"], "sku": ["sku"], "shelf_life_days": ["shelf_life"], "storage": ["cold_chain"]},
    "inventory.stock_levels": {"sku": ["sku"], "on_hand": ["stock_on_hand"], "allocated": ["allocated_stock"],
                               "reorder_point": ["reorder_point"], "warehouse_id": ["warehouse"]},
    "inventory.warehouses": {"": ["warehouse"]},
    "iot.devices": {"": ["iot_device"]},
    "iot.telemetry": {"": ["telemetry_reading", "cold_chain"], "device_id": ["iot_device"]},
    "iot.device_health": {"device_id": ["iot_device"], "readings": ["telemetry_reading"]},
    "logistics.shipments": {"": ["shipment"], "eta": ["estimated_time_of_arrival"], "carrier_id": ["carrier"],
                            "purchase_order_id": ["purchase_order"]},
    "logistics.carriers": {"": ["carrier"], "on_time_target_pct": ["on_time_in_full"]},
    "planning.carrier_performance": {"": ["on_time_in_full", "carrier"], "on_time_pct": ["on_time_in_full"],
                                     "on_time_target_pct": ["on_time_in_full"]},
    "planning.digital_twin_state": {"": ["digital_twin"], "available": ["available_to_promise"],
                                    "on_hand": ["stock_on_hand"], "reorder_point": ["reorder_point"]},
    "planning.stockout_risk": {"": ["stockout"], "available": ["available_to_promise"],
                               "reorder_point": ["reorder_point"]},
    "planning.shipment_tracking": {"eta": ["estimated_time_of_arrival"], "temperature_c": ["telemetry_reading"]},
    "planning.what_if_scenarios": {"": ["digital_twin"], "lead_time_change_days": ["lead_time"],
                                   "service_level_pct": ["service_level"]},
    "procurement.purchase_orders": {"": ["purchase_order"], "sku": ["sku"], "promised_date": ["lead_time"]},
    "procurement.suppliers": {"": ["supplier"]},
    "procurement.supplier_contracts": {"supplier_id": ["supplier"], "sku": ["sku"]},
}

GLOSSARIES: dict[str, tuple[list[dict[str, Any]], dict[str, dict[str, list[str]]]]] = {
    "banking": (BANKING, BANKING_LINKS),
    "life_sciences": (LIFE_SCIENCES, LIFE_SCIENCES_LINKS),
    "supply_chain": (SUPPLY_CHAIN, SUPPLY_CHAIN_LINKS),
}


def with_terms(descriptor: dict[str, Any], links: dict[str, list[str]] | None) -> dict[str, Any]:
    """A product descriptor with the `terms:` its links give it (on the product, after `tags`; on columns)."""
    if not links:
        return descriptor
    out: dict[str, Any] = {}
    for key, value in descriptor.items():
        out[key] = value
        if key == "tags" and links.get(""):
            out["terms"] = list(links[""])
    if links.get("") and "terms" not in out:
        out["terms"] = list(links[""])
    out["columns"] = [{**c, "terms": list(links[c["name"]])} if c["name"] in links else c
                      for c in descriptor.get("columns", [])]
    return out
