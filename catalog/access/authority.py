"""Who may write what: one rule for publishing, contract import, dashboards, reviews and sensitive checks.

- Replacing a product (a new version, new data, a new owner, another restriction) needs its current owner
  or a steward; a new product in a domain needs a member of that domain's team (`owner` and `team` in its
  domain.yaml) or a steward; a new domain needs a steward.
- Pinning to a dashboard needs its owner or an editor it names; a new dashboard belongs to whoever pins.
- "Mark as reviewed" needs the reviewed owner (a domain's owner for a domain review) or a steward.
- Quality checks that read personal data or a restricted product are added or changed by a steward only.

A steward is a user whom mesh.yaml gives the `steward` role (`users`, `groups`): choosing the steward role
in an `open` mesh lets a person see as a steward, never write as one. Every refusal raises AccessDenied,
whose message says who may do it instead, and is one row of the audit log.
"""

from __future__ import annotations

from typing import Any, Iterable

from catalog.access import identity
from catalog.access.identity import ANONYMOUS, RefusalLog, normalize_user
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import AccessDenied

STEWARD = "steward"


def actor(mesh: DeclaredMesh, user: str | None) -> str:
    """The person a write is made by: `user`, else the local process's user (MESHWORK_USER, ...)."""
    if user is None:
        return identity.local_user(mesh)
    return normalize_user(user) or ANONYMOUS


def is_steward(mesh: DeclaredMesh, user: str | None) -> bool:
    """True when mesh.yaml gives this user the steward role (held, not merely chosen in open mode)."""
    name = normalize_user(user)
    return bool(name) and name != ANONYMOUS and STEWARD in identity.held_roles(mesh, name)[1:]


def domain_team(mesh: DeclaredMesh, domain: str) -> list[str]:
    """The domain's owner and team members, normalized, owner first."""
    found = mesh.domains.get(domain)
    if found is None:
        return []
    names = [found.descriptor.owner, *found.descriptor.team]
    out: list[str] = []
    for name in (normalize_user(n) for n in names):
        if name and name not in out:
            out.append(name)
    return out


def refuse(ledger: RefusalLog, user: str, action: str, reason: str, **fields: Any) -> AccessDenied:
    """Record the refusal in the audit log and return the error for the caller to raise."""
    ledger.audit_refusal(actor=user, action=action, reason=reason, **fields)
    return AccessDenied(reason)


def _identified(mesh: DeclaredMesh, ledger: RefusalLog, user: str, action: str, what: str, **fields: Any) -> None:
    """Anonymous never writes; in an `enforced` mesh the writer must be a user mesh.yaml names."""
    if user == ANONYMOUS:
        raise refuse(ledger, user, action, f"Sign in first: {what} needs to know who you are (--user or "
                     "MESHWORK_USER on the command line).", **fields)
    if identity.config(mesh).mode == "enforced" and not identity.is_known(mesh, user):
        raise refuse(ledger, user, action, f"{user} is not a user of mesh {mesh.name!r} (identity is enforced), "
                     f"so they may not {what}; ask an administrator to add them to `users` in mesh.yaml.", **fields)


def _people(names: Iterable[str], label: str) -> str:
    names = list(names)
    if not names:
        return "a steward"
    return f"{', '.join(names)}, {label}, or a steward"


def check_mesh_write(mesh: DeclaredMesh, ledger: RefusalLog, user: str | None, action: str, what: str) -> str:
    """Authorize a change to mesh.yaml itself (a data root, ...): stewards only; returns the acting user."""
    who = actor(mesh, user)
    _identified(mesh, ledger, who, action, what)
    if is_steward(mesh, who):
        return who
    raise refuse(ledger, who, action, f"{who} may not {what}: only a steward of mesh {mesh.name!r} may change "
                 "mesh.yaml; ask a steward, or move the file under the mesh folder.")


def check_product_write(mesh: DeclaredMesh, ledger: RefusalLog, user: str | None, domain: str, name: str,
                        action: str = "product.publish") -> str:
    """Authorize writing product `domain.name` (new or a replacement); returns the acting user."""
    who = actor(mesh, user)
    product_id = f"{domain}.{name}"
    _identified(mesh, ledger, who, action, f"publish {product_id}", product_id=product_id)
    if is_steward(mesh, who):
        return who
    existing = mesh.products.get(product_id)
    if existing is not None:
        owner = normalize_user(existing.owner)
        if owner and who == owner:
            return who
        raise refuse(ledger, who, action, f"{who} may not replace {product_id}: only "
                     f"{_people([owner] if owner else [], 'the owner')} may replace {product_id}.",
                     product_id=product_id)
    if domain not in mesh.domains:
        raise refuse(ledger, who, action, f"{who} may not create the domain {domain!r}: only a steward may add a "
                     f"domain to mesh {mesh.name!r}. Publish into an existing domain whose team you are on, or "
                     "ask a steward.", product_id=product_id)
    team = domain_team(mesh, domain)
    if who in team:
        return who
    raise refuse(ledger, who, action, f"{who} is not on the {domain} team: only "
                 f"{_people(team, f'the {domain} team')} may publish a new product in {domain}.",
                 product_id=product_id)


def check_sensitive_checks(mesh: DeclaredMesh, ledger: RefusalLog, user: str, product_id: str, names: list[str],
                           action: str = "product.publish") -> None:
    """Checks that read personal data or a restricted product are added or changed by a steward only."""
    if not names or is_steward(mesh, user):
        return
    raise refuse(ledger, user, action, f"{user} may not add or change the check(s) {', '.join(names)} on "
                 f"{product_id}: they read personal data or a restricted product, which only a steward may "
                 "set up. Leave them out, or ask a steward.", product_id=product_id)


def check_dashboard_pin(mesh: DeclaredMesh, ledger: RefusalLog, user: str | None, dashboard_id: str, owner: str | None,
                        editors: Iterable[str], exists: bool, action: str = "dashboard.pin") -> str:
    """Pinning to (or saving) an existing dashboard needs its owner or an editor it names; anyone identified
    may start a new one (they become its owner). Returns the acting user."""
    who = actor(mesh, user)
    verb = "pin to" if action == "dashboard.pin" else "change"
    _identified(mesh, ledger, who, action, f"{verb} {dashboard_id}", subject=dashboard_id)
    if not exists:
        return who
    allowed = [n for n in (normalize_user(x) for x in [owner, *editors]) if n]
    if who in allowed:
        return who
    names = ", ".join(dict.fromkeys(allowed)) or "its owner"
    raise refuse(ledger, who, action, f"{who} may not {verb} {dashboard_id}: only {names} (its owner "
                 "and the editors it names) may. Pin to a new dashboard of your own instead.",
                 subject=dashboard_id)


def check_review(mesh: DeclaredMesh, ledger: RefusalLog, user: str | None, subject: str) -> str:
    """Recording a review ("owner:<email>" or "domain:<name>") needs that owner or a steward."""
    who = actor(mesh, user)
    _identified(mesh, ledger, who, "review.record", f"record the review of {subject.partition(':')[2]}",
                subject=subject)
    kind, _, whom = subject.partition(":")
    owner = normalize_user(whom) if kind == "owner" else (domain_team(mesh, whom) or [None])[0]
    if (owner and who == owner) or is_steward(mesh, who):
        return who
    label = whom if kind == "owner" else f"the {whom} domain"
    raise refuse(ledger, who, "review.record", f"{who} may not mark the review of {label} as reviewed: only "
                 f"{_people([owner] if owner else [], 'the reviewed owner')} may.", subject=subject)


def check_term_decision(mesh: DeclaredMesh, ledger: RefusalLog, user: str | None, term_id: str, steward: str | None,
                        proposer: str, action: str = "glossary.approve") -> str:
    """Approving or rejecting a glossary proposal needs the term's steward or a mesh steward, and never the
    person who proposed it (four eyes). Returns the acting user."""
    who = actor(mesh, user)
    _identified(mesh, ledger, who, action, f"decide on a proposal for the term {term_id}", subject=f"term:{term_id}")
    named = normalize_user(steward)
    if who == normalize_user(proposer):
        raise refuse(ledger, who, action, f"{who} proposed this change to {term_id} and may not decide on it: "
                     f"{_people([named] if named and named != who else [], 'the term steward')} must.",
                     subject=f"term:{term_id}")
    if (named and who == named) or is_steward(mesh, who):
        return who
    raise refuse(ledger, who, action, f"{who} may not decide on proposals for the term {term_id}: only "
                 f"{_people([named] if named else [], 'its steward')} may.", subject=f"term:{term_id}")


def check_incident(mesh: DeclaredMesh, ledger: RefusalLog, user: str | None, product_id: str, assignee: str | None,
                   verb: str, action: str = "incident.update") -> str:
    """Acknowledging, assigning, annotating or resolving an incident of `product_id` needs the product's owner,
    its domain's team, the incident's assignee, or a steward. Returns the acting user."""
    who = actor(mesh, user)
    _identified(mesh, ledger, who, action, f"{verb} an incident of {product_id}", product_id=product_id)
    product = mesh.products.get(product_id)
    allowed = [normalize_user(product.owner) if product else None,
               *(domain_team(mesh, product.domain) if product else []), normalize_user(assignee)]
    allowed = [n for n in dict.fromkeys(allowed) if n]
    if who in allowed or is_steward(mesh, who):
        return who
    raise refuse(ledger, who, action, f"{who} may not {verb} incidents of {product_id}: only "
                 f"{_people(allowed, 'its owner, domain team or assignee')} may.", product_id=product_id)
