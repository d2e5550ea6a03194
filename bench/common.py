"""Shared set-up for benchmark scripts: a Django environment on PostgreSQL and
the local S3/SQS endpoint, a database of their own, fresh queues per run, and
the helpers every benchmark prints with (figures beside their floors, load
average, CPU seconds of the processes involved, read from /proc)."""

import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://feedback:feedback@127.0.0.1:5432/feedback_bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def setup_django(*, queue_prefix: str, database_url: str | None = None) -> None:
    """Point this process (and the children it starts) at the bench database and queues."""
    sys.path.insert(0, str(ROOT))
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["SQS_QUEUE_PREFIX"] = queue_prefix
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedback_site.settings")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
    except Exception as exc:  # rows of an earlier run that a newer migration refuses: start afresh
        print(f"migrate failed on the kept bench database ({exc}); recreating it", flush=True)
        connections.close_all()
        ensure_database(os.environ["DATABASE_URL"], fresh=True)
        call_command("migrate", verbosity=0)
    call_command("setup_aws", verbosity=0)


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def _server_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def ensure_database(url: str, *, fresh: bool = False) -> None:
    """Create the database if it is missing (drop it first when ``fresh``)."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(_server_url(url), autocommit=True) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run_id(prefix: str) -> str:
    return time.strftime(f"{prefix}%Y%m%d%H%M%S")


# --- numbers --------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> dict:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


# --- figures beside their floors ----------------------------------------------------

@dataclass
class Figure:
    """One measured figure, the floor it is compared with (same unit, same run) and its target."""

    name: str
    value: float
    unit: str
    floor: float | None = None
    floor_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor in (None, 0) or self.value is None:
            return None
        return self.value / self.floor

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def _shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def print_figures(title: str, figures: list[Figure], *, context: dict | None = None) -> None:
    """A table: figure, value, floor (and what it is), ratio, target and whether it is met."""
    header = ("figure", "value", "unit", "floor", "ratio", "target", "met", "floor is")
    rows = [
        (f.name, _shown(f.value), f.unit, _shown(f.floor), _shown(f.ratio), f.target,
         "" if f.met is None else ("yes" if f.met else "NO"), f.floor_name)
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i in (0, 2, 5, 6, 7) else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(f"\n{title}")
    if context:
        print("  " + "; ".join(f"{k}: {v}" for k, v in context.items()))
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    for f in figures:
        if f.note:
            print(f"  * {f.name}: {f.note}")
    sys.stdout.flush()


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}\n" + "-" * (width + 20))
    for name, value in rows:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:<{width}}  {shown}")


def write_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **data}
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def write_figures(name: str, figures: list[Figure], **extra) -> Path:
    return write_json(name, {"machine": machine(), **extra, "figures": [f.as_dict() for f in figures]})


# --- CPU seconds of processes, from /proc ----------------------------------------------

def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out = [pid]
    for child in children(pid):
        out += process_tree(child)
    return out


def postgres_backends(dsn: str, database: str) -> Callable[[], list[int]]:
    """A function listing the server processes serving ``database`` (not the one asking)."""
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)
    lock = threading.Lock()

    def pids() -> list[int]:
        with lock:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
            ).fetchall()
        return [pid for (pid,) in rows]

    return pids


@dataclass
class CpuMeter:
    """CPU seconds spent by groups of processes between start() and stop().

    Each group is a function returning its current pids; a sampler thread
    reads /proc every ``interval`` seconds, so processes that start during the
    measurement count from zero and processes that end count up to their last
    sample (a backend living less than ``interval`` may be missed).
    """

    groups: dict[str, Callable[[], list[int]]]
    interval: float = 0.5
    _baseline: dict[tuple[str, int], float] = field(default_factory=dict)
    _last: dict[tuple[str, int], float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    sampler_cpu: float = 0.0

    def _sample(self, *, first: bool = False) -> None:
        for group, pids in self.groups.items():
            for pid in pids():
                seconds = cpu_seconds(pid)
                if seconds is None:
                    continue
                key = (group, pid)
                if first:
                    self._baseline[key] = seconds
                self._last[key] = seconds

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
        self.sampler_cpu = time.thread_time()

    def start(self) -> "CpuMeter":
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._sample()
        self._stop.set()
        self._thread.join()
        totals = dict.fromkeys(self.groups, 0.0)
        for (group, pid), last in self._last.items():
            totals[group] += last - self._baseline.get((group, pid), 0.0)
        return totals
