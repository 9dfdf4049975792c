"""Dashboards: descriptors of tiles, running them per viewer, exporting them."""
