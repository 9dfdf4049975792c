"""Governance: mesh and domain policies, data contracts (ODCS), descriptor changes."""
