"""Quality: compile checks, run them in one scan, store runs, score them; statistics and freshness."""
