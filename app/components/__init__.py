"""Shared UI pieces for the Meshwork pages: context (mesh, role), links, badges."""
