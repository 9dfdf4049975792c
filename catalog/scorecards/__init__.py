"""Scorecards: per-domain and per-product measures, usage, charts and the scorecard review."""
