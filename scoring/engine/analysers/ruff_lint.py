"""ruff, run on the learner's Python code without executing it.

ruff covers rules the hand-written checks would otherwise duplicate (bugbear,
files opened without a context manager, `in d.keys()`, loop idioms), is
maintained, and lints a file in milliseconds. It is a pinned binary
(requirements.txt), so the same input gives the same diagnostics; the one
exception to the engine's no-I/O rule (see the import-linter contract in
pyproject.toml) is this bounded subprocess:

- the code goes in on stdin and JSON comes out; ruff reads no configuration
  (``--isolated``), writes no cache, and never runs the code;
- input is bounded by the workspace (512 KB a file, 4000 characters a line)
  and only the first MAX_FILES Python files are linted;
- a run that takes longer than TIMEOUT_SECONDS is killed and the file gets a
  hint instead of ruff's findings (load-dependent, so it is the one result
  that may differ between runs; on the corpus ruff takes ~0.1 s);
- a missing binary or a crash raises RuntimeError: scoring without ruff would
  silently give other scores, so the job is retried instead.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import dataclass

RUFF_VERSION = "0.17.6"  # the pin in requirements.txt; a new ruff means a new ENGINE_VERSION
TARGET_VERSION = "py311"
# bugbear (likely bugs), open() without `with`, `in d.keys()`, and the performance idioms.
SELECT = ("B", "SIM115", "SIM118", "PERF")
# Opinions rather than defects for learner code.
IGNORE = ("B027", "B028", "B904", "B905")
TIMEOUT_SECONDS = 10.0
MAX_FILES = 10


@dataclass(frozen=True)
class Diagnostic:
    code: str
    line: int
    message: str
    url: str


@functools.cache
def ruff_binary() -> str:
    from ruff.__main__ import find_ruff_bin  # the binary installed with the pinned package

    return os.fsdecode(find_ruff_bin())


def command() -> list[str]:
    return [
        ruff_binary(), "check", "--isolated", "--no-cache", "--quiet", "--exit-zero", "--output-format", "json",
        "--target-version", TARGET_VERSION, "--select", ",".join(SELECT), "--ignore", ",".join(IGNORE),
        "--stdin-filename", "submission.py", "-",
    ]


def lint(text: str) -> list[Diagnostic] | None:
    """ruff's diagnostics for one Python text, in line order; None when ruff
    did not finish within TIMEOUT_SECONDS."""
    try:
        done = subprocess.run(  # noqa: S603 (a fixed command; the text only goes to stdin)
            command(), input=text.encode("utf-8", "surrogatepass"), capture_output=True, timeout=TIMEOUT_SECONDS,
            cwd="/", env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}, check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    except OSError as exc:
        raise RuntimeError(f"ruff could not be started: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"ruff failed ({done.returncode}): {done.stderr[:500]!r}")
    found = [
        Diagnostic(d["code"], int(d["location"]["row"]), str(d["message"]), str(d.get("url") or ""))
        for d in json.loads(done.stdout or b"[]") if d.get("code")
    ]
    return sorted(found, key=lambda d: (d.line, d.code, d.message))


def installed_version() -> str:
    done = subprocess.run([ruff_binary(), "--version"], capture_output=True, timeout=TIMEOUT_SECONDS, check=True)  # noqa: S603
    return done.stdout.decode().split()[-1]


NOT_LINTED = "not-linted"  # beyond MAX_FILES
TIMED_OUT = "timed-out"


def diagnostics(ws, name: str, text: str) -> list[Diagnostic] | str:
    """The diagnostics of one parsed Python file of the workspace, linted
    once and shared by the analysers; or NOT_LINTED / TIMED_OUT."""
    if name not in ws.lint:
        linted = sum(1 for value in ws.lint.values() if value != NOT_LINTED)
        if linted >= MAX_FILES:
            ws.lint[name] = NOT_LINTED
        else:
            found = lint(text)
            ws.lint[name] = TIMED_OUT if found is None else found
    return ws.lint[name]
