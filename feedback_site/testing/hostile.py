"""Hostile submissions for tests and benchmarks: text built to make analysers
backtrack, rescan or hold memory. Each generator takes a size in bytes (about)
and returns plain data for the engine."""

from __future__ import annotations

from scoring import engine

# Characters that patterns treat specially, for runs of one character.
RUN_CHARACTERS = " \t.!?#*_:=-~^`([{\"'’\\,;|a1é\u3000"


def runs(size: int) -> dict[str, str]:
    """A long line of one character, followed by a character that makes a
    pattern fail late, for every character of RUN_CHARACTERS."""
    return {f"run of {c!r}": "word" + c * size + "x" for c in RUN_CHARACTERS}


def documentation(size: int) -> dict[str, str]:
    """Documentation texts that made the old analyser's patterns backtrack."""
    return {
        "word, spaces, punctuation (cubic label line)": "word" + " " * size + ".",
        "label with spaces around the colon": "**Usage" + " " * (size // 2) + ":" + " " * (size // 2) + "x",
        "heading with trailing spaces": "# a" + " " * size + "x",
        "heading of hashes": "# " + "#" * size + "x",
        "a run of dots": "Intro" + "." * size + "x",
        "sentence marks and spaces": ". " * (size // 2) + "x",
        "underline of equals": "Title\n" + "=" * size + "x",
        "list markers": "1" * size + "x",
        "many short lines": "# a\n\n" * (size // 5),
        "one long sentence": "word " * (size // 5),
        **runs(size),
    }


def many_names(size: int) -> engine.SubmissionInput:
    """Thousands of defined names and long prose: the reference check once ran
    one search per name over the whole text."""
    count = max(size // 40, 1)
    code = "".join(f"def function_{i}(x):\n    return x\n\n" for i in range(count))
    prose = "This text mentions no function at all but goes on. " * max(size // 50, 1)
    return engine.SubmissionInput(source_code=code[:engine.workspace.MAX_TEXT_BYTES], documentation=prose)


def csv_every_row_invalid(size: int) -> bytes:
    """A CSV whose every data row has the wrong number of fields."""
    header = b"id,name,score\n"
    row = b"1,only two\n"
    return header + row * max((size - len(header)) // len(row), 1)


def json_many_schema_errors(size: int) -> bytes:
    """A JSON array whose every item breaks the schema of json_schema()."""
    item = b'{"id": "not a number", "name": 7},\n'
    count = max(size // len(item), 1)
    return b"[\n" + item * (count - 1) + item.rstrip(b",\n") + b"\n]\n"


def json_schema() -> dict:
    return {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}}}}


def python_sources(size: int) -> dict[str, str]:
    """Python source that is large, deep or dense within the engine's bounds."""
    width = min(size, 3900)
    return {
        "long expression line": "x = " + "+".join(["1"] * (width // 2)) + "\n",
        "many small functions": "".join(f"def f{i}(a):\n    return a\n" for i in range(size // 24 or 1)),
        "nested loops": "def f(xs):\n" + "".join("    " * (i + 1) + f"for x{i} in xs:\n" for i in range(90))
                        + "    " * 91 + "pass\n",
        "long string literal": "s = '" + "a" * width + "'\n",
        "unterminated string": "s = '" + "a" * width + "\n",
        "many names in one call": "f(" + ", ".join(f"a{i}" for i in range(width // 6)) + ")\n",
    }


def other_code(size: int) -> dict[str, str]:
    """Code in other languages (lizard's tokenizer) with long constructs."""
    return {
        "javascript string": "var s = '" + "a" * min(size, 3900) + "';\n",
        "javascript unterminated comment": "/*" + " *" * min(size // 2, 1900) + "\n" + "x\n" * (size // 2),
        "many functions": "".join(f"function f{i}(a) {{ return a; }}\n" for i in range(size // 32 or 1)),
        "regex-like slashes": "var r = " + "/a" * min(size // 2, 1900) + ";\n",
    }
