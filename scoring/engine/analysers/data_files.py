"""Data files: CSV and JSON attachments parsed and validated, with the line of
every problem. Required CSV columns and a JSON schema come from the rubric."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import json
import posixpath
import re

import jsonschema
from referencing.exceptions import Unresolvable

from ..findings import MAX_STORED_PER_RULE_AND_FILE, Findings
from ..types import DATA_FILES, ERROR, WARNING, RubricSpec, ScoringRejected
from ..workspace import DataFile, Workspace

MAX_SCHEMA_ERRORS = 100
MAX_MESSAGE_CHARS = 200
SNIFF_BYTES = 4096
DECODE_CHUNK_BYTES = 1024 * 1024
# Bad CSV rows remembered with their lines (Findings keeps no more items per rule and file anyway).
MAX_BAD_ROWS_KEPT = MAX_STORED_PER_RULE_AND_FILE


def analyse(ws: Workspace, rubric: RubricSpec) -> tuple[float, Findings]:
    findings = Findings(DATA_FILES)
    ratios: list[tuple[str, float]] = []
    for piece in ws.unanalysed:
        if piece.criterion == DATA_FILES:
            findings.add("input.too-large", ERROR, piece.message, piece.suggestion, file=piece.name, line=piece.line,
                         penalty=1.0)
            ratios.append((piece.name, 0.0))
    for data in ws.data:
        check = _csv if data.kind == "csv" else _json
        check(data, rubric, findings)
        ratios.append((data.name, findings.ratio(data.name)))
    if not ratios:
        findings.add("data.missing", ERROR, "The assignment expects a data file (CSV or JSON), but none is attached.",
                     "Attach your data as a .csv or .json file.", penalty=1.0)
        return 0.0, findings
    findings.shares = {name: 1 / len(ratios) for name, _ in ratios}  # every file counts the same
    return sum(r for _, r in ratios) / len(ratios), findings


def _decode(data: DataFile, findings: Findings) -> str | None:
    if not _is_utf8(data, findings):
        return None
    return data.data.decode("utf-8-sig")


def _is_utf8(data: DataFile, findings: Findings) -> bool:
    """Check the encoding in slices, so no decoded copy of the file is built."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data.data)
    for start in range(0, len(view), DECODE_CHUNK_BYTES):
        carried = len(decoder.getstate()[0])  # bytes of a character split by the previous slice
        try:
            decoder.decode(view[start:start + DECODE_CHUNK_BYTES], final=start + DECODE_CHUNK_BYTES >= len(view))
        except UnicodeDecodeError as exc:
            position = start - carried + exc.start
            line = data.data.count(b"\n", 0, position) + 1
            findings.add("encoding.invalid", ERROR, f"{data.name} is not valid UTF-8 (byte {position + 1}).",
                         "Save the file as UTF-8.", file=data.name, line=line, penalty=1.0)
            return False
    return True


def _text_lines(data: DataFile):
    """The file's lines, decoded a slice at a time, with their line endings
    (\\n, \\r\\n or \\r, as the csv module wants them): the file is never held
    decoded as a whole."""
    return io.TextIOWrapper(io.BytesIO(data.data), encoding="utf-8-sig", newline="")


# --- CSV ----------------------------------------------------------------------

def _blank(lines: io.TextIOWrapper) -> bool:
    """Whether the text is only whitespace; leaves the stream at its start."""
    blank = True
    while chunk := lines.read(DECODE_CHUNK_BYTES):
        if chunk.strip():
            blank = False
            break
    lines.seek(0)
    return blank


def _delimiter(data: DataFile, sample: str) -> str:
    if posixpath.splitext(data.name.lower())[1] == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv(data: DataFile, rubric: RubricSpec, findings: Findings) -> None:
    """Every problem is an item that carries its penalty (a fraction of this
    file's share of the criterion)."""
    if not _is_utf8(data, findings):
        return
    lines = _text_lines(data)
    if _blank(lines):
        findings.add("csv.empty", ERROR, f"{data.name} is empty.", "Attach the file with its data.",
                     file=data.name, line=1, penalty=1.0)
        return
    sample = lines.read(SNIFF_BYTES)
    lines.seek(0)
    delimiter = _delimiter(data, sample)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        _header(data, header, rubric, findings)
        rows, bad = _rows(data, reader, len(header), findings)
    except csv.Error as exc:
        findings.add("csv.malformed", ERROR, f"{data.name} cannot be read as CSV: {exc}.",
                     "Check quoting: a field that contains the delimiter, a quote or a line break must be quoted.",
                     file=data.name, line=max(reader.line_num, 1), penalty=0.8)
        return
    if not rows:
        findings.add("csv.no-rows", WARNING, f"{data.name} has a header but no data rows.", "Add the data.",
                     file=data.name, line=1, penalty=0.3)
    elif not bad:
        findings.praise(f"{data.name}: {rows} rows, all with {len(header)} columns.", topic="csv.column-count")


def _header(data: DataFile, header: list[str], rubric: RubricSpec, findings: Findings) -> None:
    names = [h.strip() for h in header]
    present = {n.lower() for n in names}
    missing = [h for h in rubric.csv_required_headers if h.strip().lower() not in present]
    if missing:
        findings.add("csv.missing-columns", ERROR, f"{data.name} lacks the required column(s): {', '.join(missing)}.",
                     f"The header line must name these columns: {', '.join(rubric.csv_required_headers)}.",
                     file=data.name, line=1, penalty=0.4)
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        findings.add("csv.duplicate-columns", WARNING, f"Column name(s) used twice: {', '.join(duplicates)}.",
                     "Give every column a unique name.", file=data.name, line=1, penalty=0.1)
    if any(not n for n in names):
        findings.add("csv.empty-column-name", WARNING, f"{data.name} has a column without a name.",
                     "Name every column in the header line.", file=data.name, line=1, penalty=0.1)


def _rows(data: DataFile, reader, width: int, findings: Findings) -> tuple[int, int]:
    """Rows whose width differs from the header's cost 0.2 together plus half
    the file in proportion to their share of the rows; the rows are counted
    first, so each bad row's item can carry its part."""
    start = reader.line_num + 1
    rows = 0
    bad_lines: list[tuple[int, int]] = []  # (line, fields), at most the items kept; the rest only counted
    bad = 0
    line = start
    for row in reader:
        if row:
            rows += 1
            if len(row) != width:
                bad += 1
                if len(bad_lines) < MAX_BAD_ROWS_KEPT:
                    bad_lines.append((line, len(row)))
        line = reader.line_num + 1
    if bad:
        each = 0.2 / bad + 0.5 / rows
        for number, fields in bad_lines:
            findings.add("csv.column-count", ERROR, f"Line {number} has {fields} field(s); the header has {width}.",
                         "Every row needs one value per column; quote values that contain the delimiter.",
                         file=data.name, line=number, penalty=each)
        findings.count_more("csv.column-count", bad - len(bad_lines), file=data.name, penalty=each)
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


def _json(data: DataFile, rubric: RubricSpec, findings: Findings) -> None:
    text = _decode(data, findings)
    if text is None:
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        findings.add("json.invalid", ERROR, f"{data.name} is not valid JSON: {exc.msg} (column {exc.colno}).",
                     "Fix the JSON syntax; a validator or `python -m json.tool` shows the exact spot.",
                     file=data.name, line=exc.lineno, penalty=1.0)
        return
    except RecursionError:
        findings.add("json.too-deep", ERROR, f"{data.name} is nested too deeply to read.",
                     "Flatten the structure.", file=data.name, line=1, penalty=1.0)
        return
    if rubric.json_schema is None:
        findings.praise(f"{data.name} is valid JSON.", topic="json")
        return
    validator = _validator(json.dumps(rubric.json_schema, sort_keys=True))
    try:
        errors = list(itertools.islice(validator.iter_errors(document), MAX_SCHEMA_ERRORS))
    except Unresolvable as exc:
        raise ScoringRejected("invalid_rubric", f"The rubric's JSON schema has an unresolvable $ref: {exc}") from None
    except RecursionError:
        findings.add("json.too-deep", ERROR, f"{data.name} is nested too deeply to validate.",
                     "Flatten the structure.", file=data.name, line=1, penalty=1.0)
        return
    if not errors:
        findings.praise(f"{data.name} matches the assignment's JSON schema.", topic="json")
        return
    each = min(0.8, 0.15 * len(errors)) / len(errors)  # 0.15 an error, at most 0.8 for the file
    lines = _json_lines(text, [tuple(e.absolute_path) for e in errors])
    for error in sorted(errors, key=lambda e: (_pointer(e.absolute_path), e.message)):
        message = error.message if len(error.message) <= MAX_MESSAGE_CHARS else error.message[:MAX_MESSAGE_CHARS] + "…"
        findings.add("json.schema", ERROR, f"{_pointer(error.absolute_path)}: {message}.",
                     "Change the value so it matches the schema the assignment gives.",
                     file=data.name, line=lines.get(tuple(error.absolute_path), 1), penalty=each)


def _pointer(path) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


# One JSON token: a string, a structural character, or a bare word (number,
# true, false, null). Each alternative consumes what it matches for good.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[{}\[\],:]|[^\s{}\[\],:"]++')
_END = object()  # marks a trie node where a wanted path ends


def _json_lines(text: str, paths: list[tuple]) -> dict[tuple, int]:
    """The line of the value at each path, in one pass over valid JSON text.

    The json module keeps no positions. The wanted paths form a trie, and each
    open container remembers its trie node (None once off every path), so a
    value costs O(1) however deep it sits; the scan stops when every path is
    found."""
    trie: dict = {}
    for path in paths:
        node = trie
        for part in path:
            node = node.setdefault(part, {})
        node[_END] = path
    wanted = len(set(paths))
    found: dict[tuple, int] = {}
    frames: list[list] = []  # [node, is_object, key or index, expecting a key]
    line, position = 1, 0
    root_seen = False
    for match in _JSON_TOKEN.finditer(text):
        piece = match.group()
        if piece in ",:]}":
            _json_punctuation(frames, piece)
            continue
        if frames and frames[-1][1] and frames[-1][3]:  # an object's key
            frames[-1][2], frames[-1][3] = json.loads(piece), False
            continue
        line += text.count("\n", position, match.start())
        position = match.start()
        node = _json_value_node(frames, trie, root_seen)
        root_seen = True
        if node is not None and _END in node:
            found[node[_END]] = line
            if len(found) == wanted:
                break
        if piece in "{[":
            frames.append([node, piece == "{", 0, piece == "{"])
    return found


def _json_punctuation(frames: list[list], piece: str) -> None:
    if piece in "]}":
        frames.pop()
    elif piece == ",":
        frame = frames[-1]
        if frame[1]:
            frame[3] = True  # an object: a key comes next
        else:
            frame[2] += 1  # an array: the next index


def _json_value_node(frames: list[list], trie: dict, root_seen: bool) -> dict | None:
    if not frames:
        return None if root_seen else trie
    parent = frames[-1][0]
    return None if parent is None else parent.get(frames[-1][2])
