"""Engine benchmark: `python -m bench.engine [--runs N]` (or `bash scripts/bench.sh engine`).

Prints
- the median and p95 time of engine.score() for a 50-line and a 1,000-line
  Python submission with documentation (no Django; CPU apart from one ruff
  subprocess per Python file, ~13 ms on 1,000 lines); target: under 50 ms
  median for 1,000 lines;
- for each analyser, its worst time per KB on adversarial input
  (feedback_site/testing/hostile.py: runs that made patterns backtrack,
  thousands of names, 8 MB data files of bad rows) beside its median per KB on
  the normal 1,000-line submission;
- the peak RSS of a fresh scoring child validating an 8 MB CSV whose every row
  is invalid (target: under 200 MB), and the sandbox's cost per job (a normal
  submission scored in a child process vs in this process).
"""

import argparse
import ast
import contextlib
import os
import statistics
import sys
import time

from bench.common import ROOT, Figure, load_average, print_figures, write_figures
from feedback_site.testing import hostile
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


ADVERSARIAL_KB = 64


def only(key: str) -> engine.RubricSpec:
    return engine.RubricSpec("bench", (engine.CriterionSpec(key, key, 100),), json_schema=hostile.json_schema())


def size_kb(data: engine.SubmissionInput) -> float:
    texts = len(data.source_code.encode()) + len(data.documentation.encode())
    return (texts + sum(len(f.data) for f in data.files)) / 1024


def adversarial_inputs() -> dict[str, dict[str, engine.SubmissionInput]]:
    size = ADVERSARIAL_KB * 1024
    file = engine.InputFile
    return {
        engine.DOCUMENTATION: {
            **{k: engine.SubmissionInput("", v) for k, v in hostile.documentation(size).items()},
            "thousands of names": hostile.many_names(size),
        },
        engine.CODE_QUALITY: {
            **{k: engine.SubmissionInput(v, "") for k, v in hostile.python_sources(size).items()},
            **{k: engine.SubmissionInput("", "", (file("a.js", "", v.encode()),))
               for k, v in hostile.other_code(size).items()},
        },
        engine.PERFORMANCE: {k: engine.SubmissionInput(v, "") for k, v in hostile.python_sources(size).items()},
        engine.DATA_FILES: {
            "8 MB CSV, every row invalid": engine.SubmissionInput(
                "", "", (file("d.csv", "", hostile.csv_every_row_invalid(8 << 20)),)),
            "8 MB JSON, every item invalid": engine.SubmissionInput(
                "", "", (file("d.json", "", hostile.json_many_schema_errors(8 << 20)),)),
            **{f"CSV: {k}": engine.SubmissionInput("", "", (file("d.csv", "", v.encode()),))
               for k, v in hostile.runs(size).items()},
        },
    }


def worst_per_kb(key: str, inputs: dict[str, engine.SubmissionInput]) -> tuple[float, str]:
    worst = (0.0, "")
    for label, data in inputs.items():
        started = time.perf_counter()
        with contextlib.suppress(engine.ScoringRejected):
            engine.score(data, only(key))
        worst = max(worst, ((time.perf_counter() - started) * 1000 / size_kb(data), label))
    return worst


def normal_per_kb(key: str, data: engine.SubmissionInput, runs: int) -> float:
    if key == engine.DATA_FILES:
        csv = "id,name,score\n" + "".join(f"{i},name {i},{i % 100}\n" for i in range(2000))
        data = engine.SubmissionInput("", "", (engine.InputFile("d.csv", "", csv.encode()),))
    median, _ = measure(lambda: engine.score(data, only(key)), runs)
    return median / size_kb(data)


def adversarial_figures(runs: int) -> list[Figure]:
    normal = submission(1000)
    figures = []
    for key, inputs in adversarial_inputs().items():
        worst, label = worst_per_kb(key, inputs)
        floor = normal_per_kb(key, normal, max(runs // 5, 5))
        figures.append(Figure(name=f"{key}: worst ms per KB, adversarial", value=worst, unit="ms/KB", floor=floor,
                              floor_name="median ms per KB on the normal 1,000-line submission", note=label))
    return figures


def sandbox_children() -> list[int]:
    """The scoring sandbox's child processes: the fork server's children."""
    from bench.common import children

    servers = [p for p in children(os.getpid()) if b"forkserver" in _cmdline(p)]
    return [c for server in servers for c in children(server)]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def memory_and_sandbox_figures(runs: int) -> list[Figure]:
    import django

    django.setup()
    from scoring import sandbox

    limits = sandbox.Limits(wall_seconds=120, cpu_seconds=120, memory_bytes=1 << 30)

    def in_sandbox(data: engine.SubmissionInput, rubric: engine.RubricSpec = engine.DEFAULT_RUBRIC):
        return sandbox.run(scorer_path="scoring.scorers.EngineScorer", data=data, rubric=rubric,
                           checkpoint=lambda: None, limits=limits)

    sandbox.start(processes=1)
    [child] = sandbox_children()
    idle = peak_rss_mb(child)
    in_sandbox(engine.SubmissionInput("", "", (engine.InputFile("d.csv", "", hostile.csv_every_row_invalid(8 << 20)),)),
               only(engine.DATA_FILES))
    peak = peak_rss_mb(child)
    figures = [Figure(name="8 MB CSV, every row invalid: peak RSS of the scoring child", value=peak, unit="MB",
                      floor=idle, floor_name="peak RSS of the idle child (Django and the engine loaded)",
                      target="< 200 MB", met=peak < 200)]
    data = submission(50)
    in_child, _ = measure(lambda: in_sandbox(data), runs)
    sandbox.stop()
    in_process, _ = measure(lambda: engine.score(data), runs)
    figures.append(Figure(name="50 lines scored in the sandbox's child, median", value=in_child, unit="ms",
                          floor=in_process, floor_name="the same in this process"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedback_site.settings")  # the sandbox's children set up Django
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
    figures += adversarial_figures(args.runs)
    figures += memory_and_sandbox_figures(args.runs)
    print_figures(f"Scoring engine {engine.ENGINE_VERSION} ({args.runs} runs each)", figures,
                  context={"load average": load_average()})
    print(f"written to {write_figures('engine', figures, runs=args.runs)}")


if __name__ == "__main__":
    main()
