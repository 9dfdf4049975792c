"""Benchmarks: `make bench` runs every `bench/bench_*.py` and writes its table under bench/results/."""
