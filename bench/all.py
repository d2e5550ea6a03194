"""`make bench`: every benchmark in one run, each figure beside its floor.

Runs floors, throughput, latency, live_result, api, queries, engine and console one after
the other (each measures its own floors first, just before its figures), then prints every
figure of the run in one table with its floor, ratio and target, the load
average around each part, and the machine; writes bench/results/all.json and
bench/results/latest.md (the table the README's Benchmarks section shows).

    make bench                       # = bash scripts/bench.sh all
    bash scripts/bench.sh all --jobs 2000 --skip queries
"""

import argparse
import json
import os
import subprocess
import sys
import time

from bench.common import (
    DEFAULT_DATABASE_URL,
    RESULTS,
    ROOT,
    Figure,
    ensure_database,
    load_average,
    machine,
    print_figures,
    write_json,
)

PARTS = ["floors", "throughput", "latency", "live_result", "api", "queries", "engine", "console"]
BUDGET_SECONDS = 15 * 60


def arguments(part: str, args) -> list[str]:
    return {
        "floors": ["--sqs-consumers"],  # the SQS pipeline floor is measured by throughput, before each config
        "throughput": ["--jobs", str(args.jobs)],
        "latency": ["--samples", str(args.samples)],
        "live_result": [],  # click -> visible score in Chromium, 20 submissions (bench/live_result.py)
        "api": ["--duration", str(args.api_duration)],
        "queries": [],
        "engine": [],  # the scoring engine alone (bench/engine.py)
        "console": [],  # the staff console on 100,000 jobs (bench/console.py)
    }[part]


def figures_of(part: str) -> tuple[list[Figure], dict]:
    data = json.loads((RESULTS / f"{part}.json").read_text())
    figures = [Figure(**{k: v for k, v in f.items() if k != "ratio"}) for f in data["figures"]]
    return figures, data.get("context", {})


def markdown(sections: list[tuple[str, list[Figure], dict]], header: dict) -> str:
    def num(v):
        if v is None:
            return ""
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}" if abs(v) >= 1 else f"{v:.3f}"

    lines = [f"Run {header['recorded_at']} on {header['machine']['cpu']} ({header['machine']['cores']} cores), "
             f"`make bench` in {header['seconds']:.0f} s; load average {header['load_start']} at the start, "
             f"{header['load_end']} at the end.", "",
             "| figure | value | floor (same run) | ratio | target | met |", "|---|---:|---:|---:|---|---|"]
    for part, figures, _ in sections:
        lines.append(f"| **{part}** | | | | | |")
        for f in figures:
            floor = f"{num(f.floor)} ({f.floor_name})" if f.floor is not None else ""
            met = "" if f.met is None else ("yes" if f.met else "**no**")
            lines.append(f"| {f.name} | {num(f.value)} {f.unit} | {floor} | {num(f.ratio)} | {f.target} | {met} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000, help="jobs per throughput configuration")
    parser.add_argument("--samples", type=int, default=200, help="sequential submissions of the latency benchmark")
    parser.add_argument("--api-duration", type=float, default=10.0, help="seconds per API endpoint")
    parser.add_argument("--skip", nargs="*", default=[], choices=PARTS)
    args = parser.parse_args()

    started, load_start = time.monotonic(), load_average()
    # A fresh bench database: every run starts from the same empty tables
    # (the queries benchmark keeps its own seeded database).
    ensure_database(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), fresh=True)
    print(f"make bench: {', '.join(p for p in PARTS if p not in args.skip)}; load average {load_start}", flush=True)
    failed = []
    for part in PARTS:
        if part in args.skip:
            continue
        print(f"\n===== {part} ({time.monotonic() - started:.0f} s in; load average {load_average()}) =====",
              flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{part}", *arguments(part, args)], cwd=ROOT)  # noqa: S603
        if code:
            failed.append(part)
    seconds = time.monotonic() - started
    sections = []
    for part in PARTS:
        if part in args.skip or part in failed:
            continue
        figures, context = figures_of(part)
        sections.append((part, figures, context))
        print_figures(f"[{part}]", figures, context=context)
    header = {"recorded_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "seconds": seconds, "load_start": load_start, "load_end": load_average()}
    (RESULTS / "latest.md").write_text(markdown(sections, header))
    write_json("all", {**header, "failed": failed,
                       "parts": {p: {"context": c, "figures": [f.as_dict() for f in fs]} for p, fs, c in sections}})
    print(f"\nmake bench took {seconds:.0f} s (budget {BUDGET_SECONDS} s); machine: {header['machine']}")
    print(f"load average: {load_start} at the start, {header['load_end']} at the end")
    print(f"written to {RESULTS / 'all.json'} and {RESULTS / 'latest.md'}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
