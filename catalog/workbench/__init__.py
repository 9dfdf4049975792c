"""Workbench: notebooks of SQL cells and their .ipynb export."""
