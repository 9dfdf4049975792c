"""Publish: scaffold a product from a file or a database table, profile it, write its descriptor."""
