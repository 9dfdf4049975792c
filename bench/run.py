"""Run the benchmarks: each `bench/bench_<name>.py` has `main(results: Path) -> Path`, which
measures ratios within one run and writes `bench/results/<name>.md`.

    python -m bench.run               # all of them
    python -m bench.run search sql    # only these
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    names = sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if m.name.startswith("bench_"))
    chosen = [n for n in names if not argv or n in argv]
    failed = []
    for name in chosen:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            out = importlib.import_module(f"bench.bench_{name}").main(RESULTS)
            print(f"   wrote {out} in {time.perf_counter() - started:.1f} s", flush=True)
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            failed.append(name)
            print(f"   FAILED: {type(exc).__name__}: {exc}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
