"""A large synthetic catalog for benchmarks: ~50 domains, N products, a deep lineage DAG.

About 70% of products read a handful of tiny shared files (parquet, some CSV); the rest are
derived SQL products reading 1 to 3 earlier products, up to 6 levels deep, so lineage is a
real acyclic graph. Titles, descriptions, tags and owners come from vocabularies, so search
has something to rank. Same `seed`, same bytes.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import polars as pl
from sqlglot import exp

from catalog.samples._spec import ANCHOR, GLOBAL_POLICIES, roles
from catalog.descriptors.yamlio import dump_yaml
from catalog.samples._writer import prepare, write_yaml

MAX_LEVEL = 6
SHARED = "_shared"

DOMAINS = (
    "retail_banking", "cards", "payments", "lending", "mortgages", "fraud", "credit_risk", "treasury",
    "compliance", "privacy", "marketing", "sales", "customer_care", "hr", "finance", "procurement",
    "logistics", "inventory", "manufacturing", "quality", "iot", "fleet", "energy", "clinical", "lab",
    "safety", "pharmacy", "claims", "underwriting", "billing", "ecommerce", "web_analytics", "mobile_app",
    "search", "recommendations", "supply_planning", "forecasting", "pricing", "loyalty", "stores",
    "suppliers", "legal", "security", "it_ops", "network", "telecom", "content", "research",
    "sustainability", "real_estate",
)
ENTITIES = ("customer", "account", "order", "shipment", "device", "claim", "patient", "invoice", "payment",
            "product", "supplier", "employee", "session", "campaign", "contract", "ticket", "store", "asset",
            "sensor", "policy", "transaction", "visit", "subscription", "vehicle", "warehouse", "lead")
MEASURES = ("activity", "balances", "churn_scores", "events", "snapshots", "metrics", "features", "history",
            "status", "summary", "forecasts", "alerts", "segments", "ledger", "kpis", "exceptions")
CADENCE = ("Daily", "Weekly", "Monthly", "Hourly", "Real-time", "Quarterly")
PURPOSES = ("churn modelling", "regulatory reporting", "next-best-offer", "capacity planning",
            "fraud detection", "executive dashboards", "demand forecasting", "customer service",
            "cost optimisation", "audit trails", "A/B test analysis", "SLA monitoring")
SYSTEMS = ("the ERP", "the CRM", "the core platform", "the event stream", "the data lake export",
           "the operational database", "a partner feed", "the web tracker")
FIRST = ("ana", "ben", "chen", "dana", "elif", "farah", "grace", "hugo", "ines", "jonas", "kofi", "lena",
         "mateo", "nadia", "omar", "priya", "quinn", "rosa", "sami", "tara", "uma", "victor", "wen", "yara")
LAST = ("silva", "okafor", "li", "kowalski", "yilmaz", "haddad", "nguyen", "martin", "garcia", "berg",
        "mensah", "rossi", "tanaka", "nair", "smith", "moreau", "novak", "costa", "schmidt", "kim")

# shared file -> columns (name, type, description, pii category); every file has the join key `id`
TEMPLATES: dict[str, list[tuple[str, str, str, str | None]]] = {
    "customers": [("id", "BIGINT", "Surrogate key", None), ("full_name", "VARCHAR", "Person's name", "name"),
                  ("email", "VARCHAR", "Contact e-mail", "email"), ("country", "VARCHAR", "ISO country code", None),
                  ("segment", "VARCHAR", "Commercial segment", None), ("created_at", "TIMESTAMP", "Creation time", None)],
    "orders": [("id", "BIGINT", "Surrogate key", None), ("customer_ref", "BIGINT", "Customer reference", None),
               ("amount", "DOUBLE", "Amount in EUR", None), ("status", "VARCHAR", "Lifecycle status", None),
               ("ordered_at", "TIMESTAMP", "Order time", None)],
    "events": [("id", "BIGINT", "Surrogate key", None), ("event_kind", "VARCHAR", "Kind of event", None),
               ("metric_value", "DOUBLE", "Measured value", None), ("region", "VARCHAR", "Region", None),
               ("event_at", "TIMESTAMP", "Event time", None)],
    "devices": [("id", "BIGINT", "Surrogate key", None), ("model", "VARCHAR", "Device model", None),
                ("site", "VARCHAR", "Installation site", None), ("temperature", "DOUBLE", "Temperature in °C", None),
                ("seen_at", "TIMESTAMP", "Last contact", None)],
    "accounts": [("id", "BIGINT", "Surrogate key", None), ("holder_name", "VARCHAR", "Account holder", "name"),
                 ("balance", "DOUBLE", "Balance in EUR", None), ("currency", "VARCHAR", "ISO currency", None),
                 ("opened_at", "TIMESTAMP", "Opening time", None)],
    "items": [("id", "BIGINT", "Surrogate key", None), ("sku", "VARCHAR", "Stock-keeping unit", None),
              ("category", "VARCHAR", "Category", None), ("price", "DOUBLE", "List price in EUR", None),
              ("updated_at", "TIMESTAMP", "Last change", None)],
}
CATEGORIES = {"country": ["DE", "FR", "US", "BR", "JP", "IN"], "segment": ["mass", "affluent", "sme", "corporate"],
              "status": ["open", "paid", "shipped", "cancelled"], "event_kind": ["view", "click", "purchase", "error"],
              "region": ["emea", "amer", "apac"], "model": ["t100", "t200", "gps3", "hx9"],
              "site": ["north", "south", "east", "west"], "currency": ["EUR", "USD", "GBP"],
              "category": ["food", "tools", "pharma", "apparel"]}
ROWS = 50


def build_synthetic_catalog(dest: Path, products: int = 10_000, seed: int = 0) -> Path:
    """Write a mesh of `products` descriptors under `dest` (emptied first if it already holds a mesh)."""
    dest = Path(dest)
    rng = random.Random(seed)
    prepare(dest)
    _write_shared(dest / SHARED, rng)
    domains = DOMAINS[:max(1, min(len(DOMAINS), products))]
    people = [f"{f}.{l}@corp.example" for f in FIRST for l in LAST]
    team = {d: rng.sample(people, rng.randint(3, 6)) for d in domains}
    write_yaml(dest / "mesh.yaml", {
        "name": "synthetic", "title": "Synthetic benchmark catalog",
        "description": f"{products} generated data products across {len(domains)} domains, for benchmarks.",
        "roles": roles(auditor=("Internal audit: sees every product, personal data masked", False)),
        "policies": GLOBAL_POLICIES})
    for domain in domains:
        write_yaml(dest / domain / "domain.yaml", {
            "name": domain, "title": domain.replace("_", " ").title(),
            "description": f"Data products of the {domain.replace('_', ' ')} domain.",
            "owner": team[domain][0], "team": team[domain]})
    catalog: list[tuple[str, int, list[tuple]]] = []  # (id, level, columns)
    by_level: dict[int, list[int]] = {}
    names: set[str] = set()
    for n in range(products):
        domain = domains[n % len(domains)] if n < len(domains) else rng.choice(domains)
        derived = catalog and rng.random() < 0.3
        name = _unique_name(rng, domain, names)
        descriptor, level, columns = (_derived(rng, name, catalog, by_level) if derived
                                      else _file_product(rng, name))
        descriptor = _describe(rng, descriptor, columns, domain, team[domain], level)
        path = dest / domain / "products" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(descriptor), encoding="utf-8")
        by_level.setdefault(level, []).append(len(catalog))
        catalog.append((f"{domain}.{name}", level, columns))
    return dest


def _write_shared(folder: Path, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for template, columns in TEMPLATES.items():
        data: dict[str, list] = {}
        for name, type_, _, pii in columns:
            if name == "id":
                data[name] = list(range(1, ROWS + 1))
            elif type_ == "TIMESTAMP":
                data[name] = [ANCHOR - timedelta(minutes=rng.randint(0, 60 * 24 * 30)) for _ in range(ROWS)]
            elif type_ == "DOUBLE":
                data[name] = [round(rng.uniform(-20, 5000), 2) for _ in range(ROWS)]
            elif type_ == "BIGINT":
                data[name] = [rng.randint(1, ROWS) for _ in range(ROWS)]
            elif pii == "name":
                data[name] = [f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}" for _ in range(ROWS)]
            elif pii == "email":
                data[name] = [f"{rng.choice(FIRST)}.{rng.choice(LAST)}{i}@mail.example" for i in range(ROWS)]
            elif name == "sku":
                data[name] = [f"SKU-{i:05d}" for i in range(1, ROWS + 1)]
            else:
                data[name] = [rng.choice(CATEGORIES[name]) for _ in range(ROWS)]
        frame = pl.DataFrame(data, schema={n: _dtype(t) for n, t, _, _ in columns})
        frame.write_parquet(folder / f"{template}.parquet", compression="zstd")
        frame.write_csv(folder / f"{template}.csv", datetime_format="%Y-%m-%d %H:%M:%S")


def _dtype(type_: str) -> pl.DataType:
    return {"BIGINT": pl.Int64, "DOUBLE": pl.Float64, "VARCHAR": pl.String, "TIMESTAMP": pl.Datetime("us")}[type_]


def _unique_name(rng: random.Random, domain: str, names: set[str]) -> str:
    base = f"{rng.choice(ENTITIES)}_{rng.choice(MEASURES)}"
    name, n = base, 1
    while f"{domain}.{name}" in names:
        n += 1
        name = f"{base}_{n}"
    names.add(f"{domain}.{name}")
    return name


def _file_product(rng: random.Random, name: str) -> tuple[dict, int, list[tuple]]:
    template = rng.choice(sorted(TEMPLATES))
    kind = "csv" if rng.random() < 0.2 else "parquet"
    columns = TEMPLATES[template]
    quality: list[dict] = [{"check": "not_null", "column": "id"}, {"check": "unique", "columns": ["id"]}]
    for col, type_, _, _ in columns[1:]:
        if col in CATEGORIES and rng.random() < 0.5:
            quality.append({"check": "accepted_values", "column": col, "values": CATEGORIES[col]})
        elif type_ == "DOUBLE" and rng.random() < 0.3:
            quality.append({"check": "range", "column": col, "min": -100, "severity": "warning"})
    if rng.random() < 0.5:
        quality.append({"check": "row_count", "min": 10})
    descriptor = {"name": name, "source": {"kind": kind, "path": f"../{SHARED}/{template}.{kind}"},
                  "quality": quality}
    return descriptor, 0, list(columns)


def _derived(rng: random.Random, name: str, catalog: list, by_level: dict[int, list[int]]) -> tuple[dict, int, list]:
    """SELECT over 1-3 earlier products joined on id; the first one sets the level (at most MAX_LEVEL)."""
    top = min(MAX_LEVEL - 1, max(by_level))
    first = catalog[rng.choice(by_level[rng.randint(0, top)])]
    level = first[1] + 1
    others = [catalog[rng.randrange(len(catalog))] for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    upstream = [first] + [o for o in others if o[1] < level and o[0] != first[0]]
    upstream = list({u[0]: u for u in upstream}.values())
    chosen: list[tuple] = []
    select: list[exp.Expression] = [exp.column("id")]
    for alias, (product_id, _, columns) in zip("abc", upstream):
        taken = {c[0] for c in chosen} | {"id"}
        picks = [c for c in columns if c[0] not in taken]
        picks = rng.sample(picks, min(len(picks), rng.randint(1, 3)))
        select += [exp.column(c[0], table=alias) for c in picks]
        chosen += picks
    domain, table = upstream[0][0].split(".")
    query = exp.select(*select).from_(exp.table_(table, db=domain, alias="a"))
    for alias, (product_id, _, _) in zip("bc", upstream[1:]):
        d, t = product_id.split(".")
        query = query.join(exp.table_(t, db=d, alias=alias), using=["id"], join_type="inner")
    numeric = [c for c in chosen if c[1] == "DOUBLE"]
    if numeric and rng.random() < 0.5:
        column = numeric[0][0]
        owner = "abc"[next(i for i, u in enumerate(upstream) if any(c[0] == column for c in u[2]))]
        query = query.where(exp.column(column, table=owner) > exp.Literal.number(rng.randint(0, 1000)))
    columns = [next(c for c in first[2] if c[0] == "id")] + chosen
    descriptor = {"name": name, "source": {"kind": "sql", "sql": query.sql(dialect="duckdb", pretty=True) + "\n"},
                  "quality": [{"check": "unique", "columns": ["id"]}], "upstream": [u[0] for u in upstream]}
    return descriptor, level, columns


def _describe(rng: random.Random, descriptor: dict, columns: list[tuple], domain: str, team: list[str],
              level: int) -> dict:
    """Title, description, owner, tags, columns and SLA, in the canonical key order."""
    entity, _, measure = descriptor["name"].partition("_")
    measure = measure.rstrip("_0123456789").replace("_", " ")
    words = domain.replace("_", " ")
    purpose = rng.choice(PURPOSES)
    origin = (f"Read in place from {rng.choice(SYSTEMS)}" if level == 0
              else f"Derived (lineage level {level}) from {', '.join(descriptor['upstream'])}")
    out = {
        "name": descriptor["name"],
        "title": f"{rng.choice(CADENCE)} {entity} {measure}",
        "description": f"{entity.capitalize()} {measure} for {purpose} in {words}. {origin}; owned by the {words} team.",
        "owner": rng.choice(team),
        "version": f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
        "tags": sorted({entity, domain.split("_")[0], measure.split()[0], purpose.split()[0].lower()}),
        "source": descriptor["source"],
        "columns": [{"name": n, "type": t, "description": d} | ({"pii": pii} if pii else {})
                    | ({"key": True} if n == "id" else {}) for n, t, d, pii in columns],
        "quality": descriptor["quality"],
    }
    stamp = next((n for n, t, _, _ in columns if t == "TIMESTAMP"), None)
    if stamp:
        out["sla"] = {"freshness_hours": rng.choice([24, 168, 720, 2160]), "timestamp_column": stamp}
    if rng.random() < 0.02:
        out["access"] = {"restricted": True, "roles": ["steward", "auditor"]}
    return out
