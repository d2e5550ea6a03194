"""Engine benchmark: `python -m bench.engine [--runs N]` (or `bash scripts/bench.sh engine`).

Prints the median and p95 time of engine.score() for a 50-line and a
1,000-line Python submission with documentation (pure CPU, no Django, no I/O).
Target: under 50 ms median for 1,000 lines.
"""

import argparse
import ast
import statistics
import time

from bench.common import Figure, load_average, print_figures, write_figures
from scoring import engine

DOCUMENTATION = """# Inventory tools

## Overview

Functions that keep stock counts for a small shop, report them and find
problems such as duplicated product codes.

## Usage

Call `restock_0` with a dictionary of counts and a list of deliveries. Each
function returns a new value and leaves its arguments unchanged.

## Examples

```python
restock_0({"apple": 1}, [("apple", 2)])
```
"""

TEMPLATE = '''

def restock_{n}(stock, deliveries):
    """Add the delivered quantities to a copy of ``stock``."""
    result = dict(stock)
    for code, quantity in deliveries:
        if quantity <= 0:
            continue
        result[code] = result.get(code, 0) + quantity
    return result


def report_{n}(stock):
    """One line per product, sorted by code."""
    lines = []
    for code in sorted(stock):
        lines.append(f"{{code}}: {{stock[code]}}")
    return "\\n".join(lines)


def duplicates_{n}(codes):
    """Codes that occur more than once."""
    seen = []
    repeated = set()
    for code in codes:
        if code in seen:
            repeated.add(code)
        seen.append(code)
    return sorted(repeated)
'''


def submission(lines: int) -> engine.SubmissionInput:
    """Valid Python of at least ``lines`` lines, made of whole functions."""
    parts = ['"""Inventory tools."""']
    n = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(TEMPLATE.format(n=n))
        n += 1
    return engine.SubmissionInput(source_code="".join(parts), documentation=DOCUMENTATION)


def measure(work, runs: int) -> tuple[float, float]:
    work()  # warm-up: imports and caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    figures = []
    for lines in (50, 1000):
        data = submission(lines)
        median, p95 = measure(lambda data=data: engine.score(data), args.runs)
        # The floor: parsing the same source once, which any analysis must do.
        floor, _ = measure(lambda data=data: ast.parse(data.source_code), args.runs)
        actual = data.source_code.count("\n")
        target = 50.0 if lines == 1000 else None
        figures.append(Figure(name=f"{actual} lines, median", value=median, unit="ms", floor=floor,
                              floor_name="ast.parse of the same source", target="< 50 ms" if target else "",
                              met=(median < target) if target else None))
        figures.append(Figure(name=f"{actual} lines, p95", value=p95, unit="ms", floor=floor,
                              floor_name="ast.parse of the same source"))
    print_figures(f"Scoring engine {engine.ENGINE_VERSION} ({args.runs} runs each)", figures,
                  context={"load average": load_average()})
    print(f"written to {write_figures('engine', figures, runs=args.runs)}")


if __name__ == "__main__":
    main()
