"""Turning the raw input into analysable pieces, within fixed limits.

Limits are sizes, never clocks: a time budget would make the output depend on
the machine's load, and the same input must always give the same result.
Every analyser is linear or close to it in the sizes bounded here.
"""

from __future__ import annotations

import ast
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field

import lizard

from .findings import display_name, place_label
from .types import (
    CODE_QUALITY,
    DATA_FILES,
    DOCUMENTATION,
    DOCUMENTATION_FIELD,
    SOURCE_FIELD,
    RubricSpec,
    ScoringRejected,
    SubmissionInput,
)

MAX_TOTAL_BYTES = 16 * 1024 * 1024  # the whole input; beyond it nothing is scored
MAX_FILES = 50
MAX_TEXT_BYTES = 512 * 1024  # one code or documentation text
MAX_DATA_BYTES = 8 * 1024 * 1024  # one CSV or JSON attachment
MAX_CODE_LINE_CHARS = 4000  # longer lines mean generated or minified code
MAX_BRACKET_DEPTH = 100  # lizard's recursive reader gives up (silently) far below 500

_NOT_BRACKET = re.compile(r"[^(){}\[\]\n]+")

PYTHON_EXTENSIONS = {".py", ".pyw"}
DOC_EXTENSIONS = {".md", ".markdown", ".rst", ".txt"}
CSV_EXTENSIONS = {".csv", ".tsv"}
JSON_EXTENSIONS = {".json"}
CSV_TYPES = {"text/csv", "application/csv", "text/tab-separated-values"}
JSON_TYPES = {"application/json", "text/json"}
DOC_TYPES = {"text/markdown", "text/x-markdown", "text/x-rst", "text/plain"}


@dataclass
class Text:
    name: str
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


@dataclass
class PythonSource(Text):
    tree: ast.Module | None = None
    syntax_error: tuple[str, int] | None = None  # (message, line)


@dataclass
class DataFile:
    name: str
    kind: str  # "csv" or "json"
    data: bytes


@dataclass
class Unanalysed:
    """A piece that could not be analysed, and why (already an explanation)."""

    criterion: str
    name: str
    message: str
    suggestion: str
    line: int | None


@dataclass
class Workspace:
    python: list[PythonSource] = field(default_factory=list)
    other_code: list[Text] = field(default_factory=list)
    docs: list[Text] = field(default_factory=list)
    data: list[DataFile] = field(default_factory=list)
    unanalysed: list[Unanalysed] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # attachments of a kind no analyser reads
    line_counts: dict[str, int] = field(default_factory=dict)
    # ruff's diagnostics by Python file name, filled on first use (analysers/ruff_lint.py)
    lint: dict[str, object] = field(default_factory=dict)

    @property
    def has_code(self) -> bool:
        return bool(self.python or self.other_code) or any(u.criterion == CODE_QUALITY for u in self.unanalysed)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def line_count(text: str) -> int:
    return text.count("\n") + 1


def input_hash(data: SubmissionInput, rubric: RubricSpec) -> str:
    """sha256 over a canonical form of everything the outcome depends on.
    Contents enter through their own sha256, so hashing a big input stays cheap."""
    files = sorted(
        [f.name, f.content_type, hashlib.sha256(f.data).hexdigest()] for f in data.files
    )
    canonical = {
        "source_code": hashlib.sha256(data.source_code.encode("utf-8", "surrogatepass")).hexdigest(),
        "documentation": hashlib.sha256(data.documentation.encode("utf-8", "surrogatepass")).hexdigest(),
        "files": files,
        "rubric": rubric.definition(),
    }
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def check_bounds(data: SubmissionInput) -> None:
    """Refuse input that can never be scored."""
    if not data.source_code.strip() and not data.documentation.strip() and not data.files:
        raise ScoringRejected("nothing_to_score", "The submission has no code, no documentation and no files.")
    if len(data.files) > MAX_FILES:
        raise ScoringRejected("too_many_files", f"The submission has {len(data.files)} files; at most {MAX_FILES}.")
    total = len(data.source_code) + len(data.documentation) + sum(len(f.data) for f in data.files)
    if total > MAX_TOTAL_BYTES or _utf8_size(data) > MAX_TOTAL_BYTES:
        raise ScoringRejected(
            "input_too_large",
            f"The submission is larger than {MAX_TOTAL_BYTES // (1024 * 1024)} MB in total and cannot be scored.",
        )


def _utf8_size(data: SubmissionInput) -> int:
    text = len(data.source_code.encode("utf-8", "surrogatepass")) + len(
        data.documentation.encode("utf-8", "surrogatepass")
    )
    return text + sum(len(f.data) for f in data.files)


def build(data: SubmissionInput) -> Workspace:
    ws = Workspace()
    if data.source_code.strip():
        _add_python(ws, SOURCE_FIELD, data.source_code, len(data.source_code.encode("utf-8", "surrogatepass")))
    if data.documentation.strip():
        _add_text(ws, ws.docs, DOCUMENTATION, DOCUMENTATION_FIELD, data.documentation,
                  len(data.documentation.encode("utf-8", "surrogatepass")))
    for f in sorted(data.files, key=lambda f: (f.name, f.content_type, f.data)):
        _add_file(ws, f.name, f.content_type, f.data)
    return ws


def classify(name: str, content_type: str) -> str:
    """'python', 'code', 'doc', 'csv', 'json' or '' (not analysed). The name's
    extension decides first: libmagic reports most text as text/plain."""
    ext = posixpath.splitext(name.lower())[1]
    content_type = content_type.split(";")[0].strip().lower()
    if ext in PYTHON_EXTENSIONS or "python" in content_type:
        return "python"
    if ext in CSV_EXTENSIONS or content_type in CSV_TYPES:
        return "csv"
    if ext in JSON_EXTENSIONS or content_type in JSON_TYPES:
        return "json"
    if ext in DOC_EXTENSIONS:
        return "doc"
    if ext and lizard.get_reader_for(name) is not None:
        return "code"
    if content_type in DOC_TYPES:
        return "doc"
    return ""


def _add_file(ws: Workspace, name: str, content_type: str, raw: bytes) -> None:
    kind = classify(name, content_type)
    if kind in ("csv", "json"):
        _add_data(ws, name, kind, raw)
        return
    if not kind:
        ws.ignored.append(name)
        return
    criterion = DOCUMENTATION if kind == "doc" else CODE_QUALITY
    ws.line_counts[name] = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    text = _decode(ws, criterion, name, raw)
    if text is None:
        return
    if kind == "python":
        _add_python(ws, name, text, len(raw))
    elif kind == "code":
        _add_text(ws, ws.other_code, CODE_QUALITY, name, text, len(raw), brackets=True)
    else:
        _add_text(ws, ws.docs, DOCUMENTATION, name, text, len(raw))


def _add_data(ws: Workspace, name: str, kind: str, raw: bytes) -> None:
    ws.line_counts[name] = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    if len(raw) > MAX_DATA_BYTES:
        ws.unanalysed.append(Unanalysed(
            DATA_FILES, name,
            f"{name} is {_size(len(raw))}; data files over {_size(MAX_DATA_BYTES)} are not validated.",
            "Attach a smaller sample of the data.", 1,
        ))
        return
    ws.data.append(DataFile(name, kind, raw))


def _decode(ws: Workspace, criterion: str, name: str, raw: bytes) -> str | None:
    if b"\x00" in raw[:8192]:
        ws.unanalysed.append(Unanalysed(
            criterion, name, f"{name} looks like a binary file, not text.",
            "Attach the source text, not a compiled or binary file.", 1,
        ))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        ws.unanalysed.append(Unanalysed(
            criterion, name, f"{name} is not valid UTF-8 (byte {exc.start + 1}, line {line}).",
            "Save the file as UTF-8 text.", line,
        ))
        return None


def _too_big(ws: Workspace, criterion: str, name: str, text: str, size: int, *, brackets: bool = False) -> bool:
    if size > MAX_TEXT_BYTES:
        ws.unanalysed.append(Unanalysed(
            criterion, name,
            f"{place_label(name)} is {_size(size)}; texts over {_size(MAX_TEXT_BYTES)} are not analysed.",
            "Submit the relevant part only; generated or bundled files do not belong in a submission.", 1,
        ))
        return True
    if brackets:  # Python needs no such check: its parser refuses 200 levels itself
        depth, line_number = _bracket_depth(text)
        if depth > MAX_BRACKET_DEPTH:
            ws.unanalysed.append(Unanalysed(
                criterion, name,
                f"{name} nests brackets {depth} levels deep (line {line_number}); code nested over "
                f"{MAX_BRACKET_DEPTH} levels is not analysed.",
                "Flatten the structure: extract the inner blocks into functions.", line_number,
            ))
            return True
    if criterion == CODE_QUALITY:
        for number, line in enumerate(text.split("\n"), start=1):
            if len(line) > MAX_CODE_LINE_CHARS:
                ws.unanalysed.append(Unanalysed(
                    criterion, name,
                    f"Line {number} of {display_name(name)} is {len(line)} characters long; code with lines over "
                    f"{MAX_CODE_LINE_CHARS} characters (minified or generated) is not analysed.",
                    "Submit readable source code with normal line lengths.", number,
                ))
                return True
    return False


def _bracket_depth(text: str) -> tuple[int, int]:
    """The deepest bracket nesting and its line. Brackets inside strings and
    comments count too: the bound only needs to be safe, not exact."""
    depth = deepest = 0
    line = deepest_line = 1
    for char in _NOT_BRACKET.sub("", text):
        if char in "({[":
            depth += 1
            if depth > deepest:
                deepest, deepest_line = depth, line
        elif char in ")}]":
            depth = max(depth - 1, 0)
        elif char == "\n":
            line += 1
    return deepest, deepest_line


def _add_text(
    ws: Workspace, target: list[Text], criterion: str, name: str, text: str, size: int, *, brackets: bool = False
) -> None:
    text = normalise_newlines(text)
    ws.line_counts[name] = line_count(text)
    if not _too_big(ws, criterion, name, text, size, brackets=brackets):
        target.append(Text(name, text))


def _add_python(ws: Workspace, name: str, text: str, size: int) -> None:
    text = normalise_newlines(text)
    ws.line_counts[name] = line_count(text)
    if _too_big(ws, CODE_QUALITY, name, text, size):
        return
    source = PythonSource(name, text)
    try:
        source.tree = ast.parse(text, filename=name)
    except SyntaxError as exc:  # IndentationError and TabError too
        source.syntax_error = (exc.msg, exc.lineno or 1)
    except ValueError as exc:  # e.g. a NUL character
        source.syntax_error = (str(exc), 1)
    except (RecursionError, MemoryError):
        source.syntax_error = ("the code is nested too deeply for the parser", 1)
    ws.python.append(source)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n / 1024:.0f} KB"
