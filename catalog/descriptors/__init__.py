"""Descriptors: the mesh as YAML on disk, read with line numbers into validated models."""
