"""Federated governance as code: global policies in mesh.yaml, extra ones per domain.

One small evaluator per rule kind turns (descriptor, policy params) into a verdict with a
fix in a product owner's words. `compliance` runs every policy that applies to every
product; `check_descriptor` runs them on a draft before it is published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import polars as pl

from catalog import sqlutil
from catalog.access.identity import default_role, held_roles
from catalog.access.ledger import AccessLedger
from catalog.access.policy import Policy as Viewer
from catalog.access.policy import Viewers
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct, Policy, ProductDescriptor
from catalog.errors import MeshError
from catalog.state.cache import MeshCache
from catalog.numbers import hours_text

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_PII_PATTERN = (r"(?i)(e_?mail|phone|mobile|ssn|social_security|birth|dob|address|street|zip|postcode|"
                       r"passport|driver|iban|account_number|card_number|ip_address|"
                       r"(full|first|last|given|family|middle|contact|patient|holder)_?name)")

COMPLIANCE_SCHEMA = {
    "domain": pl.String, "product_id": pl.String, "policy": pl.String, "scope": pl.String,
    "passed": pl.Boolean, "message": pl.String, "fix": pl.String, "rule": pl.String, "severity": pl.String,
}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    fix: str = ""


@dataclass(frozen=True)
class RuleContext:
    """What an evaluator may know besides the descriptor: the mesh's roles, the descriptor's file and, for a
    product derived from restricted products, the roles all of them allow (None: none is restricted)."""

    roles: frozenset[str]
    where: str  # e.g. "retail/products/customers.yaml", used in fixes
    upstream_roles: frozenset[str] | None = None


Evaluator = Callable[[ProductDescriptor, dict, RuleContext], Verdict]


def _pattern(params: dict, key: str, default: str) -> re.Pattern[str]:
    text = params.get(key, default)
    try:
        return re.compile(str(text))
    except re.error as exc:
        raise MeshError(f"policy parameter {key}={text!r} is not a valid regular expression: {exc}") from None


# --------------------------------------------------------------------------- one evaluator per rule

def has_owner(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    if not d.owner.strip():
        return Verdict(False, "no owner", f"add `owner: <a person's e-mail>` to {ctx.where}")
    if params.get("email", True) and not EMAIL.match(d.owner.strip()):
        return Verdict(False, f"owner {d.owner!r} is not an e-mail address",
                       f"set `owner:` in {ctx.where} to the accountable person's e-mail")
    return Verdict(True, f"owned by {d.owner}")


def has_description(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    min_length = int(params.get("min_length", 1))
    if len(d.description.strip()) < min_length:
        return Verdict(False, "the product has no description" if not d.description.strip()
                       else f"the description is shorter than {min_length} characters",
                       f"add `description:` to {ctx.where}: what the data is and what it is for")
    if params.get("columns", True):
        missing = [c.name for c in d.columns if not c.description.strip()]
        if missing:
            return Verdict(False, f"{len(missing)} column(s) undescribed: {', '.join(missing[:8])}"
                           + (" …" if len(missing) > 8 else ""),
                           f"add a `description:` to each of these columns in {ctx.where}")
    return Verdict(True, "product and columns described")


def pii_classified(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    pattern = _pattern(params, "column_pattern", DEFAULT_PII_PATTERN)
    unclassified = [c.name for c in d.columns if pattern.search(c.name) and not c.pii]
    if unclassified:
        return Verdict(False, f"personal data not classified: {', '.join(unclassified)}",
                       f"mark each of these columns `pii: <category>` (email, name, phone, …) in {ctx.where}")
    pii = [c for c in d.columns if c.pii]
    return Verdict(True, f"{len(pii)} PII column(s) classified" if pii else "no personal data by name")


def has_quality_checks(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    minimum = int(params.get("min", 1))
    if len(d.quality) < minimum:
        return Verdict(False, f"{len(d.quality)} quality check(s), at least {minimum} required",
                       f"add {minimum - len(d.quality)} more check(s) under `quality:` in {ctx.where} "
                       "(the Publish page suggests some from a profile of the data)")
    return Verdict(True, f"{len(d.quality)} quality check(s)")


def has_freshness_sla(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    if d.sla.freshness_hours is None:
        return Verdict(False, "no freshness SLA",
                       f"add `sla: {{freshness_hours: 24, timestamp_column: <column>}}` to {ctx.where}")
    if params.get("max_hours") is not None and d.sla.freshness_hours > float(params["max_hours"]):
        return Verdict(False, f"freshness SLA of {hours_text(d.sla.freshness_hours)} exceeds the "
                       f"{hours_text(float(params['max_hours']))} this policy allows",
                       f"tighten `sla.freshness_hours` in {ctx.where}")
    return Verdict(True, f"fresh within {hours_text(d.sla.freshness_hours)}")


def naming_convention(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    pattern = _pattern(params, "pattern", r"^[a-z][a-z0-9_]{2,39}$")
    if not pattern.search(d.name):
        return Verdict(False, f"name {d.name!r} does not match {pattern.pattern}",
                       f"rename the product (file and `name:`) to match {pattern.pattern}, as a new product "
                       "version so consumers can move")
    if "column_pattern" in params:
        column_pattern = _pattern(params, "column_pattern", "")
        bad = [c.name for c in d.columns if not column_pattern.search(c.name)]
        if bad:
            return Verdict(False, f"column(s) {', '.join(bad)} do not match {column_pattern.pattern}",
                           f"rename these columns in the source and in {ctx.where}")
    return Verdict(True, "name follows the convention")


def restricted_names_roles(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    if not d.access.restricted:
        return Verdict(True, "not restricted")
    if not d.access.roles:
        return Verdict(False, "restricted, but no role is named, so no one can see it",
                       f"list the roles allowed under `access: {{restricted: true, roles: [...]}}` in {ctx.where}")
    unknown = [r for r in d.access.roles if r not in ctx.roles]
    if unknown:
        return Verdict(False, f"restricted to role(s) the mesh does not define: {', '.join(unknown)}",
                       f"fix `access.roles` in {ctx.where} or add the role(s) to mesh.yaml `roles:`")
    return Verdict(True, f"visible to {', '.join(d.access.roles)}")


def derived_keeps_restrictions(d: ProductDescriptor, params: dict, ctx: RuleContext) -> Verdict:
    if ctx.upstream_roles is None:
        return Verdict(True, "reads no restricted product")
    allowed = ", ".join(sorted(ctx.upstream_roles)) or "no role"
    if not d.access.restricted or not set(d.access.roles) <= ctx.upstream_roles:
        return Verdict(False, f"reads restricted products but is visible beyond the roles they allow ({allowed})",
                       f"set `access: {{restricted: true, roles: [...]}}` in {ctx.where} to roles among: {allowed}")
    return Verdict(True, f"restricted like its restricted upstreams ({allowed})")


RULES: dict[str, Evaluator] = {
    "has_owner": has_owner,
    "has_description": has_description,
    "pii_classified": pii_classified,
    "has_quality_checks": has_quality_checks,
    "has_freshness_sla": has_freshness_sla,
    "naming_convention": naming_convention,
    "restricted_names_roles": restricted_names_roles,
    "derived_keeps_restrictions": derived_keeps_restrictions,
}

DEFAULT_POLICIES: list[Policy] = [
    Policy(id="owner-required", rule="has_owner", severity="error",
           description="Every data product names an accountable owner (a person's e-mail)."),
    Policy(id="description-required", rule="has_description", severity="warning",
           description="Every product and every column is described."),
    Policy(id="pii-classified", rule="pii_classified", severity="error",
           description="Columns that hold personal data carry a PII category, so masking applies.",
           params={"column_pattern": DEFAULT_PII_PATTERN}),
    Policy(id="quality-checks", rule="has_quality_checks", severity="warning", params={"min": 1},
           description="Every product declares at least one quality check."),
    Policy(id="freshness-sla", rule="has_freshness_sla", severity="warning",
           description="Every product states how fresh its data is promised to be."),
    Policy(id="naming", rule="naming_convention", severity="info", params={"pattern": r"^[a-z][a-z0-9_]{2,39}$"},
           description="Product names are lower_snake_case, 3 to 40 characters."),
    Policy(id="restricted-roles", rule="restricted_names_roles", severity="error",
           description="A restricted product names the roles that may see it, and those roles exist."),
    Policy(id="derived-restrictions", rule="derived_keeps_restrictions", severity="error",
           description="A product built from restricted products is restricted to roles they all allow."),
]


# --------------------------------------------------------------------------- evaluation

def policies_for(mesh: DeclaredMesh, domain: str | None) -> list[tuple[Policy, str]]:
    """(policy, scope) pairs that apply to a product of `domain`: global first, then the domain's own."""
    out = [(p, "global") for p in mesh.descriptor.policies]
    if domain and domain in mesh.domains:
        out += [(p, "domain") for p in mesh.domains[domain].descriptor.policies]
    return out


def policy_issues(mesh: DeclaredMesh) -> list[str]:
    """Policies that cannot be evaluated (unknown rule, bad parameter), said where they are declared."""
    issues = []
    for where, policies in [("mesh.yaml", mesh.descriptor.policies),
                            *((f"{d}/domain.yaml", dom.descriptor.policies) for d, dom in mesh.domains.items())]:
        for policy in policies:
            if policy.rule not in RULES:
                issues.append(f"{where}: policy {policy.id!r} uses unknown rule {policy.rule!r}; "
                              f"known rules: {', '.join(RULES)}")
                continue
            try:
                RULES[policy.rule](ProductDescriptor(name="probe", source={"kind": "sql", "sql": "SELECT 1"}),
                                   policy.params, RuleContext(frozenset(), where))
            except (MeshError, ValueError, TypeError) as exc:
                issues.append(f"{where}: policy {policy.id!r}: {exc}")
    return issues


def evaluate(descriptor: ProductDescriptor, policy: Policy, ctx: RuleContext) -> Verdict:
    """One policy on one descriptor; a policy that cannot run is a failed verdict saying why."""
    evaluator = RULES.get(policy.rule)
    if evaluator is None:
        return Verdict(False, f"unknown rule {policy.rule!r}", f"use one of: {', '.join(RULES)}")
    try:
        return evaluator(descriptor, policy.params, ctx)
    except (MeshError, ValueError, TypeError) as exc:
        return Verdict(False, f"policy {policy.id!r} cannot be evaluated: {exc}", "fix the policy's params")


def _where(product: DataProduct) -> str:
    """The descriptor's path inside the mesh, as an owner opens it (the loader reads <domain>/products/*.yaml)."""
    return f"{product.domain}/products/{product.path.name}"


def check_descriptor(mesh: DeclaredMesh, domain: str, descriptor: ProductDescriptor,
                     where: str | None = None) -> pl.DataFrame:
    """The compliance rows a draft of `domain` would get, before it is written."""
    upstream: set[str] = set()
    if descriptor.source.kind == "sql":
        try:
            upstream = sqlutil.referenced_tables(sqlutil.parse_one_select(descriptor.source.sql))
        except sqlutil.SqlParseError:
            upstream = set()
    ctx = RuleContext(frozenset(mesh.roles), where or f"{domain}/products/{descriptor.name}.yaml",
                      _frozen(required_access(mesh, upstream)))
    rows = [_row(domain, f"{domain}.{descriptor.name}", policy, scope, evaluate(descriptor, policy, ctx))
            for policy, scope in policies_for(mesh, domain) if policy.rule in RULES]
    return pl.DataFrame(rows, schema=COMPLIANCE_SCHEMA)


def _row(domain: str, product_id: str, policy: Policy, scope: str, verdict: Verdict) -> dict:
    return {"domain": domain, "product_id": product_id, "policy": policy.id, "scope": scope,
            "passed": verdict.passed, "message": verdict.message, "fix": "" if verdict.passed else verdict.fix,
            "rule": policy.rule, "severity": policy.severity}


def required_access(mesh: DeclaredMesh, upstream: set[str] | list[str]) -> set[str] | None:
    """Roles a product derived from `upstream` may be visible to: None when no upstream (transitively) is
    restricted, else the roles every restricted one allows, so a derived product cannot leak restricted data."""
    seen: set[str] = set()
    stack = list(upstream)
    allowed: set[str] | None = None
    while stack:
        product_id = stack.pop()
        if product_id in seen or product_id not in mesh.products:
            continue
        seen.add(product_id)
        access = mesh.products[product_id].descriptor.access
        if access.restricted:
            allowed = set(access.roles) if allowed is None else allowed & set(access.roles)
        stack.extend(mesh.upstreams(product_id))
    return allowed


def _frozen(roles: set[str] | None) -> frozenset[str] | None:
    return None if roles is None else frozenset(roles)


def compliance(mesh: DeclaredMesh, cache: MeshCache, domain: str | None = None,
               policy: Viewer | None = None) -> pl.DataFrame:
    """One row per (product, policy that applies to it); unknown rules are left to `policy_issues`. With a
    viewer `policy`, only the products it shows in full (a locked product's verdicts describe its columns).

    It depends on the descriptors only, which an open mesh never changes, so it is computed once (`cache`)."""
    frame = cache.get("compliance", domain, lambda: _evaluate_all(mesh, domain))
    if policy is not None and not policy.unfiltered:
        frame = frame.filter(pl.col("product_id").is_in(list(policy.allowed)))
    return frame


def _evaluate_all(mesh: DeclaredMesh, domain: str | None) -> pl.DataFrame:
    roles = frozenset(mesh.roles)
    rows = []
    for product in mesh.products.values():
        if domain and product.domain != domain:
            continue
        upstream_roles = _frozen(required_access(mesh, mesh.upstreams(product.id))) if product.kind == "sql" else None
        ctx = RuleContext(roles, _where(product), upstream_roles)
        for policy, scope in policies_for(mesh, product.domain):
            if policy.rule in RULES:
                rows.append(_row(product.domain, product.id, policy, scope,
                                 evaluate(product.descriptor, policy, ctx)))
    return pl.DataFrame(rows, schema=COMPLIANCE_SCHEMA)


def matrix(frame: pl.DataFrame) -> pl.DataFrame:
    """Domain x policy: the share of products passing (0-100), for the Governance page's heat map."""
    if frame.is_empty():
        return pl.DataFrame(schema={"domain": pl.String, "policy": pl.String, "products": pl.UInt32,
                                    "failing": pl.UInt32, "passing_pct": pl.Float64})
    return (frame.group_by("domain", "policy")
            .agg(products=pl.len(), failing=(~pl.col("passed")).sum().cast(pl.UInt32))
            .with_columns(passing_pct=((pl.col("products") - pl.col("failing")) / pl.col("products") * 100).round(1))
            .sort("domain", "policy"))


# --------------------------------------------------------------------------- PII inventory and access

def pii_inventory(mesh: DeclaredMesh, viewers: Viewers, ledger: AccessLedger,
                  policy: Viewer | None = None) -> pl.DataFrame:
    """Every classified PII column: which product holds which category, and who sees it unmasked.

    `unmasked_roles` are roles with PII access that can see the product; `unmasked_people` the users
    mesh.yaml gives those roles; `unmasked_users` people holding an active PII grant on it (access ledger).
    With a viewer `policy`, only the columns of products it shows in full.
    """
    grants: dict[str, set[str]] = {}
    if mesh.products:
        active = ledger.grants().filter((pl.col("status") == "active") & (pl.col("kind") == "pii"))
        for row in active.iter_rows(named=True):
            grants.setdefault(row["product_id"], set()).add(row["user"])
    holders = role_holders(mesh)
    rows = []
    by_role = {role: viewers.policy(role) for role in mesh.roles}
    for product in mesh.products.values():
        if policy is not None and not policy.can_see(product.id):
            continue
        unmasked = sorted(r for r, view in by_role.items() if view.sees_pii(product.id))
        people = sorted({user for role in unmasked for user in holders.get(role, [])})
        for column in product.pii_columns:
            rows.append({"domain": product.domain, "product_id": product.id, "column": column.name,
                         "category": column.pii_category or "other", "owner": product.owner,
                         "restricted": product.descriptor.access.restricted or bool(by_role and any(
                             not view.can_see(product.id) for view in by_role.values())),
                         "unmasked_roles": ", ".join(unmasked), "unmasked_people": ", ".join(people),
                         "unmasked_users": ", ".join(sorted(grants.get(product.id, ())))})
    return pl.DataFrame(rows, schema={"domain": pl.String, "product_id": pl.String, "column": pl.String,
                                      "category": pl.String, "owner": pl.String, "restricted": pl.Boolean,
                                      "unmasked_roles": pl.String, "unmasked_people": pl.String,
                                      "unmasked_users": pl.String})


def role_holders(mesh: DeclaredMesh) -> dict[str, list[str]]:
    """Role -> the people mesh.yaml `users:` gives it (directly or through groups), beyond the default role."""
    base = default_role(mesh)
    out: dict[str, list[str]] = {}
    for user in sorted(mesh.descriptor.users):
        for role in held_roles(mesh, user):
            if role != base:
                out.setdefault(role, []).append(user)
    return out


def pii_by_product(inventory: pl.DataFrame) -> pl.DataFrame:
    """One row per product holding personal data: its categories and who sees them unmasked."""
    return (inventory.group_by("domain", "product_id", "owner", "restricted", "unmasked_roles", "unmasked_people",
                               "unmasked_users")
            .agg(categories=pl.col("category").unique().sort().str.join(", "), columns=pl.len())
            .sort("domain", "product_id"))


def policies_frame(mesh: DeclaredMesh) -> pl.DataFrame:
    """Every declared policy, global and per domain, with where it is written."""
    rows = [{"scope": scope, "where": "mesh.yaml" if scope == "global" else f"{d}/domain.yaml", "id": p.id,
             "rule": p.rule, "severity": p.severity, "description": p.description,
             "params": ", ".join(f"{k}={v}" for k, v in p.params.items())}
            for scope, d, policies in [("global", None, mesh.descriptor.policies),
                                       *(("domain", n, dom.descriptor.policies) for n, dom in mesh.domains.items())]
            for p in policies]
    return pl.DataFrame(rows, schema={k: pl.String for k in
                                      ("scope", "where", "id", "rule", "severity", "description", "params")})


def pii_by_category(inventory: pl.DataFrame) -> pl.DataFrame:
    """Category -> how many products and columns hold it, and which products."""
    return (inventory.group_by("category")
            .agg(products=pl.col("product_id").n_unique(), columns=pl.len(),
                 product_ids=pl.col("product_id").unique().sort().str.join(", "))
            .sort("products", descending=True))


def access_rules(mesh: DeclaredMesh, viewers: Viewers, policy: Viewer | None = None) -> pl.DataFrame:
    """One row per (role, product): may the role query it, and does it see its personal data unmasked (the
    visibility policy for each role, grants aside). With a viewer `policy`, the products it may list."""
    rules = viewers.restrictions()
    rows = []
    for role, spec in mesh.roles.items():
        view = viewers.policy(role)
        for product in mesh.products.values():
            if policy is not None and not policy.is_listed(product.id):
                continue
            visible = view.can_see(product.id)
            pii = len(product.pii_columns)
            if not visible:
                named = [mesh.products[r].descriptor.access.roles for r in sorted(rules.get(product.id, ()))]
                allowed = [r for r in (named[0] if named else []) if all(r in roles for roles in named)]
                rule = f"restricted to {', '.join(allowed) or 'no role'}"
            elif not pii:
                rule = "visible; no personal data"
            elif spec.pii:
                rule = "visible; personal data unmasked"
            else:
                rule = f"visible; {pii} PII column(s) masked"
            rows.append({"role": role, "role_sees_pii": spec.pii, "domain": product.domain,
                         "product_id": product.id, "visible": visible, "pii_columns": pii,
                         "pii_unmasked": view.sees_pii(product.id), "rule": rule})
    return pl.DataFrame(rows, schema={"role": pl.String, "role_sees_pii": pl.Boolean, "domain": pl.String,
                                      "product_id": pl.String, "visible": pl.Boolean, "pii_columns": pl.Int64,
                                      "pii_unmasked": pl.Boolean, "rule": pl.String})
