"""Engine benchmark: `python -m scoring.bench [--runs N]`.

Prints the median and p95 time of engine.score() for a 50-line and a
1,000-line Python submission with documentation (pure CPU, no Django, no I/O).
"""

import argparse
import statistics
import time

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


def measure(data: engine.SubmissionInput, runs: int) -> tuple[float, float]:
    engine.score(data)  # warm-up: imports and caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.score(data)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    for lines in (50, 1000):
        data = submission(lines)
        median, p95 = measure(data, args.runs)
        actual = data.source_code.count("\n")
        print(f"engine {engine.ENGINE_VERSION}: {actual:>5} lines  median {median:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
