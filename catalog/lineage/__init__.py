"""Lineage: product, domain and column graphs, their health, and the excerpts a viewer may see."""
