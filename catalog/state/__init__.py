"""State: the per-mesh store of what happened (runs, usage, grants, reviews), its migrations."""
