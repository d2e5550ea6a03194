"""Data files: CSV and JSON attachments parsed and validated, with the line of
every problem. Required CSV columns and a JSON schema come from the rubric."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import posixpath

import jsonschema
import yaml
from referencing.exceptions import Unresolvable

from ..findings import Findings
from ..types import DATA_FILES, ERROR, WARNING, RubricSpec, ScoringRejected
from ..workspace import DataFile, Workspace

MAX_SCHEMA_ERRORS = 100
MAX_MESSAGE_CHARS = 200
SNIFF_BYTES = 4096


def analyse(ws: Workspace, rubric: RubricSpec) -> tuple[float, Findings]:
    findings = Findings(DATA_FILES)
    ratios: list[float] = []
    for piece in ws.unanalysed:
        if piece.criterion == DATA_FILES:
            findings.add("input.too-large", ERROR, piece.message, piece.suggestion, file=piece.name, line=piece.line)
            ratios.append(0.0)
    for data in ws.data:
        check = _csv if data.kind == "csv" else _json
        ratios.append(check(data, rubric, findings))
    if not ratios:
        findings.add("data.missing", ERROR, "The assignment expects a data file (CSV or JSON), but none is attached.",
                     "Attach your data as a .csv or .json file.")
        return 0.0, findings
    return sum(ratios) / len(ratios), findings


def _decode(data: DataFile, findings: Findings) -> str | None:
    try:
        return data.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.data.count(b"\n", 0, exc.start) + 1
        findings.add("encoding.invalid", ERROR, f"{data.name} is not valid UTF-8 (byte {exc.start + 1}).",
                     "Save the file as UTF-8.", file=data.name, line=line)
        return None


# --- CSV ----------------------------------------------------------------------

def _delimiter(data: DataFile, text: str) -> str:
    if posixpath.splitext(data.name.lower())[1] == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:SNIFF_BYTES], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv(data: DataFile, rubric: RubricSpec, findings: Findings) -> float:
    text = _decode(data, findings)
    if text is None:
        return 0.0
    if not text.strip():
        findings.add("csv.empty", ERROR, f"{data.name} is empty.", "Attach the file with its data.",
                     file=data.name, line=1)
        return 0.0
    delimiter = _delimiter(data, text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    penalty = 0.0
    try:
        header = next(reader)
        penalty += _header(data, header, rubric, findings)
        rows, bad = _rows(data, reader, len(header), findings)
    except csv.Error as exc:
        findings.add("csv.malformed", ERROR, f"{data.name} cannot be read as CSV: {exc}.",
                     "Check quoting: a field that contains the delimiter, a quote or a line break must be quoted.",
                     file=data.name, line=max(reader.line_num, 1))
        return 0.2
    if not rows:
        findings.add("csv.no-rows", WARNING, f"{data.name} has a header but no data rows.", "Add the data.",
                     file=data.name, line=1)
        penalty += 0.3
    elif bad:
        penalty += 0.2 + 0.5 * bad / rows
    else:
        findings.strengths.append(f"{data.name}: {rows} rows, all with {len(header)} columns.")
    return max(0.0, 1.0 - penalty)


def _header(data: DataFile, header: list[str], rubric: RubricSpec, findings: Findings) -> float:
    penalty = 0.0
    names = [h.strip() for h in header]
    present = {n.lower() for n in names}
    missing = [h for h in rubric.csv_required_headers if h.strip().lower() not in present]
    if missing:
        findings.add("csv.missing-columns", ERROR, f"{data.name} lacks the required column(s): {', '.join(missing)}.",
                     f"The header line must name these columns: {', '.join(rubric.csv_required_headers)}.",
                     file=data.name, line=1)
        penalty += 0.4
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        findings.add("csv.duplicate-columns", WARNING, f"Column name(s) used twice: {', '.join(duplicates)}.",
                     "Give every column a unique name.", file=data.name, line=1)
        penalty += 0.1
    if any(not n for n in names):
        findings.add("csv.empty-column-name", WARNING, f"{data.name} has a column without a name.",
                     "Name every column in the header line.", file=data.name, line=1)
        penalty += 0.1
    return penalty


def _rows(data: DataFile, reader, width: int, findings: Findings) -> tuple[int, int]:
    rows = bad = 0
    line = reader.line_num + 1
    for row in reader:
        if row:
            rows += 1
            if len(row) != width:
                bad += 1
                findings.add("csv.column-count", ERROR,
                             f"Line {line} has {len(row)} field(s); the header has {width}.",
                             "Every row needs one value per column; quote values that contain the delimiter.",
                             file=data.name, line=line)
        line = reader.line_num + 1
    return rows, bad


# --- JSON ---------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _validator(schema_json: str):
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ScoringRejected("invalid_rubric", f"The rubric's JSON schema is invalid: {exc.message}") from None
    return cls(schema)


def check_json_schema(schema: dict) -> None:
    """Raise ScoringRejected('invalid_rubric') unless ``schema`` is a valid JSON Schema."""
    if not isinstance(schema, dict):
        raise ScoringRejected("invalid_rubric", "The rubric's JSON schema must be a JSON object.")
    _validator(json.dumps(schema, sort_keys=True))


def _json(data: DataFile, rubric: RubricSpec, findings: Findings) -> float:
    text = _decode(data, findings)
    if text is None:
        return 0.0
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        findings.add("json.invalid", ERROR, f"{data.name} is not valid JSON: {exc.msg} (column {exc.colno}).",
                     "Fix the JSON syntax; a validator or `python -m json.tool` shows the exact spot.",
                     file=data.name, line=exc.lineno)
        return 0.0
    except RecursionError:
        findings.add("json.too-deep", ERROR, f"{data.name} is nested too deeply to read.",
                     "Flatten the structure.", file=data.name, line=1)
        return 0.0
    if rubric.json_schema is None:
        findings.strengths.append(f"{data.name} is valid JSON.")
        return 1.0
    validator = _validator(json.dumps(rubric.json_schema, sort_keys=True))
    try:
        errors = list(itertools.islice(validator.iter_errors(document), MAX_SCHEMA_ERRORS))
    except Unresolvable as exc:
        raise ScoringRejected("invalid_rubric", f"The rubric's JSON schema has an unresolvable $ref: {exc}") from None
    except RecursionError:
        findings.add("json.too-deep", ERROR, f"{data.name} is nested too deeply to validate.",
                     "Flatten the structure.", file=data.name, line=1)
        return 0.0
    if not errors:
        findings.strengths.append(f"{data.name} matches the assignment's JSON schema.")
        return 1.0
    locate = _Locator(text)
    for error in sorted(errors, key=lambda e: (_pointer(e.absolute_path), e.message)):
        message = error.message if len(error.message) <= MAX_MESSAGE_CHARS else error.message[:MAX_MESSAGE_CHARS] + "…"
        findings.add("json.schema", ERROR, f"{_pointer(error.absolute_path)}: {message}.",
                     "Change the value so it matches the schema the assignment gives.",
                     file=data.name, line=locate(list(error.absolute_path)))
    return max(0.0, 1.0 - min(0.8, 0.15 * len(errors)))


def _pointer(path) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class _Locator:
    """Finds the line of a value in the JSON text. The json module keeps no
    positions; PyYAML's composer does (JSON is YAML) and only runs when there
    are schema errors to place."""

    def __init__(self, text: str):
        self.text = text
        try:
            self.root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (yaml.YAMLError, RecursionError):
            self.root = None

    def __call__(self, path: list) -> int:
        node = self.root
        for part in path:
            node = self._child(node, part)
            if node is None:
                return self._fallback(path)
        return node.start_mark.line + 1 if node is not None else 1

    @staticmethod
    def _child(node, part):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    return value
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            return node.value[part]
        return None

    def _fallback(self, path: list) -> int:
        keys = [p for p in path if isinstance(p, str)]
        if keys:
            position = self.text.find(json.dumps(keys[-1]))
            if position >= 0:
                return self.text.count("\n", 0, position) + 1
        return 1
