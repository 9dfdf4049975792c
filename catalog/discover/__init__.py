"""Discover: full-text search over descriptors and the duplicate-product finder."""
