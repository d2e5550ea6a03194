"""Profile the end-to-end path with py-spy: where the CPU of a job goes.

Runs one throughput configuration (default 2,000 jobs, 1 worker process) while
py-spy samples the worker processes and this process's submitting threads,
then prints, for each side, the functions with the largest share of the
samples (inclusive and self) and writes speedscope files to open in
https://www.speedscope.app or `py-spy`'s own viewer.

    bash scripts/bench.sh profile [--jobs 2000] [--processes 1] [--threads 4]
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.common import load_average, run_id, setup_django, write_json
from bench.pipeline import log_dir, park_leftover_jobs
from bench.throughput import run_config

PY_SPY = Path(sys.executable).with_name("py-spy")


def record(pid: int, out: Path, *, subprocesses: bool) -> subprocess.Popen:
    command = [str(PY_SPY), "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--output", str(out),
               "--nonblocking", "--function"]
    if subprocesses:
        command.append("--subprocesses")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # noqa: S603


def summarize(raw: Path, *, top: int, keep: str = "") -> list[tuple[str, float, float]]:
    """(function, inclusive %, self %) from py-spy's collapsed stacks, most inclusive first."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if keep and not any(keep in f for f in frames):
            continue
        n = int(count)
        total += n
        for frame in set(frames[1:]):  # frames[0] is the process/thread name
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return []
    return [(frame, 100 * n / total, 100 * own[frame] / total) for frame, n in inclusive.most_common(top)]


def print_summary(title: str, rows: list[tuple[str, float, float]]) -> None:
    print(f"\n{title}\n{'incl %':>7} {'self %':>7}  function")
    for frame, incl, self_ in rows:
        print(f"{incl:7.1f} {self_:7.1f}  {frame[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--submitters", type=int, default=4)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    run = run_id("prof")
    setup_django(queue_prefix=run)
    park_leftover_jobs()
    logs = log_dir(run)
    outputs = {"worker": logs / "worker.raw.txt", "web": logs / "submitter.raw.txt"}
    spies = []

    def watch(workers):
        spies.append(record(workers.pid, outputs["worker"], subprocesses=True))
        spies.append(record(os.getpid(), outputs["web"], subprocesses=False))
        time.sleep(1.0)  # py-spy attaches

        def stop() -> None:
            for spy in spies:
                spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            for spy in spies:
                spy.wait(timeout=60)

        return stop

    print(f"load average at start: {load_average()}")
    result = run_config(run=run, jobs=args.jobs, processes=args.processes, threads=args.threads,
                        submitters=args.submitters, timeout=600, watch=watch)
    print(f"\n{result['jobs_per_s']:.1f} jobs/s under the profiler (it slows the run); CPU ms/job "
          f"{result['cpu_ms_per_job']}; load average at end: {load_average()}")
    summaries = {}
    for side, path in outputs.items():
        if not path.exists():
            print(f"no profile for {side} (py-spy needs ptrace: run as root)")
            continue
        # The submitting process also runs the benchmark's own threads: keep the submit path only.
        rows = summarize(path, top=args.top, keep="submission_submit" if side == "web" else "")
        summaries[side] = rows
        print_summary(f"{side}: share of sampled CPU ({path})", rows)
    write_json("profile", {"args": vars(args), "result": result, "top": summaries})


if __name__ == "__main__":
    main()
