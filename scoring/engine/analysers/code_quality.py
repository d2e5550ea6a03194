"""Code quality: syntax, lint (pyflakes), complexity and length (radon),
naming, docstrings; lizard's language-neutral metrics for other languages."""

from __future__ import annotations

import ast
import re

import lizard
from pyflakes import checker as pyflakes_checker
from radon.complexity import cc_rank
from radon.visitors import ComplexityVisitor

from ..findings import Findings, display_name, place_label
from ..types import CODE_QUALITY, ERROR, INFO, WARNING
from ..workspace import PythonSource, Text, Workspace
from . import ruff_lint
from .python_ast import FUNCTION_NODES, public_definitions, walk_with_function_flag

COMPLEXITY_WARNING = 10  # radon rank C starts at 11
COMPLEXITY_ERROR = 20
FUNCTION_LINES_WARNING = 50
NESTING_WARNING = 4  # lizard's nesting depth inside a function
LONG_LINE = 120
MIN_COMMENT_RATIO = 0.05
SYNTAX_ERROR_RATIO = 0.2  # what a file that does not parse keeps

PYFLAKES_ERRORS = {
    "UndefinedName", "UndefinedLocal", "UndefinedExport", "ReturnOutsideFunction", "YieldOutsideFunction",
    "ContinueOutsideLoop", "BreakOutsideLoop", "DuplicateArgument", "TwoStarredExpressions",
    "DefaultExceptNotLast",
}
PYFLAKES_SUGGESTIONS = {
    "UnusedImport": "Remove the import, or use what it imports.",
    "UnusedVariable": "Remove the assignment, or use the value.",
    "UndefinedName": "Define the name before using it, fix its spelling, or import it.",
    "UndefinedLocal": "Assign the local variable before reading it.",
    "RedefinedWhileUnused": "Remove the earlier definition or give one of them another name.",
    "ImportStarUsed": "Import the names you need explicitly.",
    "ImportStarUsage": "Import the names you need explicitly.",
    "FStringMissingPlaceholders": "Remove the f prefix, or add the {placeholders} you meant.",
    "IsLiteral": "Compare values with == and !=; `is` compares identity.",
}

BUGBEAR_SUGGESTIONS = {
    "B006": "Default to None and create the list or dict inside the function: the default is shared by every call.",
    "B007": "Name an unused loop variable `_`, or use it.",
    "B008": "Call the function inside the body: a default is computed once, when the function is defined.",
    "B011": "Raise AssertionError instead: `assert False` disappears under python -O.",
    "B018": "Remove the expression, or assign or return its value.",
    "B020": "Use another name for the loop variable: it replaces the collection you iterate over.",
    "B023": "Bind the loop variable as a default argument, or build the function outside the loop.",
}

SNAKE = re.compile(r"^_*[a-z][a-z0-9_]*$|^_+$")
UPPER = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
CAPWORDS = re.compile(r"^_*[A-Z][a-zA-Z0-9]*$")
# Names frameworks impose (unittest, ast visitors): not the learner's choice.
IMPOSED_FUNCTION_NAMES = re.compile(
    r"^(setUp|tearDown|setUpClass|tearDownClass|setUpModule|tearDownModule|asyncSetUp|asyncTearDown"
    r"|(visit|depart|generic_visit)_?\w*)$"
)
AMBIGUOUS = {"l", "O", "I"}

_KEBAB = re.compile(r"(?<!^)(?=[A-Z])")


def analyse(ws: Workspace) -> tuple[float, Findings]:
    findings = Findings(CODE_QUALITY)
    if not ws.has_code:
        findings.add("code.missing", ERROR, "No source code was submitted.", "Add your code to the submission.",
                     penalty=1.0)
        return 0.0, findings
    weighted: list[tuple[str, float, int]] = []
    for piece in ws.unanalysed:
        if piece.criterion == CODE_QUALITY:
            findings.add("input.unreadable", ERROR, piece.message, piece.suggestion, file=piece.name,
                         line=piece.line, penalty=1.0)
            weighted.append((piece.name, findings.ratio(piece.name), _weight(ws.line_counts.get(piece.name, 1))))
    for source in ws.python:
        _python_file(source, findings)
        if source.tree is not None:
            _ruff(ws, source, findings)
        weighted.append((source.name, findings.ratio(source.name), _weight(len(source.lines))))
    for text in ws.other_code:
        _lizard_file(text, findings)
        weighted.append((text.name, findings.ratio(text.name), _weight(len(text.lines))))
    whole = sum(w for _, _, w in weighted)
    findings.shares = {name: w / whole for name, _, w in weighted}
    return sum(r * w for _, r, w in weighted) / whole, findings


def _weight(lines: int) -> int:
    """A file's share of the criterion: its size, within bounds, so neither a
    one-line helper nor a huge file decides everything."""
    return min(max(lines, 20), 1000)


def _python_file(source: PythonSource, findings: Findings) -> None:
    if source.syntax_error is not None:
        message, line = source.syntax_error
        findings.add(
            "syntax.error", ERROR, f"Syntax error: {message}.",
            "Fix the syntax first: the rest of the analysis needs code that parses.",
            file=source.name, line=line, penalty=1.0 - SYNTAX_ERROR_RATIO,
        )
        return
    tree = source.tree
    try:
        _structure(source, tree, findings)
        _lint(source, tree, findings)
        _complexity(source, tree, findings)
        _naming(source, tree, findings)
        _docstrings(source, tree, findings)
    except RecursionError:
        findings.add("input.too-deep", ERROR, f"{place_label(source.name)} is nested too deeply to analyse completely.",
                     "Flatten the deeply nested expressions or blocks.", file=source.name, line=1, penalty=0.5)


def _ruff(ws: Workspace, source: PythonSource, findings: Findings) -> None:
    found = ruff_lint.diagnostics(ws, source.name, source.text)
    if found == ruff_lint.TIMED_OUT:
        findings.add("lint.skipped", INFO,
                     f"The extra checks (ruff) did not finish in time on {display_name(source.name)}.",
                     "Split very large files; the checks run again when you resubmit.", file=source.name, line=1)
        return
    if found == ruff_lint.NOT_LINTED:
        findings.add("lint.skipped", INFO,
                     f"The extra checks (ruff) cover the first {ruff_lint.MAX_FILES} Python files only.",
                     "Submit fewer Python files to have all of them checked.", file=source.name, line=1)
        return
    unmanaged, managed = _opens(source.tree)
    # ruff flags open() handed to ExitStack.enter_context too: a line whose opens are all managed is fine.
    unmanaged |= {d.line for d in found if d.code == "SIM115"} - (managed - unmanaged)
    for line in sorted(unmanaged):
        findings.add("resources.open-without-with", WARNING,
                     "A file is opened without `with`: it stays open if an error happens before it is closed, "
                     "or for good if it is never closed.",
                     "Open files in a `with open(...) as f:` block, which closes them in every case.",
                     file=source.name, line=line, penalty=0.1, cap=0.3)
    for diagnostic in found:
        if diagnostic.code.startswith("B"):
            findings.add(f"bugbear.{diagnostic.code}", WARNING, f"{diagnostic.message.rstrip('.')}.",
                         BUGBEAR_SUGGESTIONS.get(diagnostic.code, f"Rule {diagnostic.code} explains the problem and "
                                                                  f"the fix: {diagnostic.url}"),
                         file=source.name, line=diagnostic.line, penalty=0.04, cap=0.3)


FILE_OPENERS = {"open", "io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open"}


def _opens(tree: ast.Module) -> tuple[set[int], set[int]]:
    """Lines of open() calls that no `with`, context manager or return takes
    charge of, and lines of those that one does. ruff's SIM115 finds most of
    the first; this adds the ones it lets pass, such as `return
    json.load(open(path))`. An open() returned as it is (a factory) is the
    caller's to close."""
    managed: set[int] = set()
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            managed.update(id(item.context_expr) for item in node.items)
        elif isinstance(node, ast.Return) and node.value is not None:
            managed.add(id(node.value))
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name.rsplit(".", 1)[-1] in ("enter_context", "closing"):
                managed.update(id(arg) for arg in node.args)
            if name in FILE_OPENERS:
                calls.append(node)
    return ({call.lineno for call in calls if id(call) not in managed},
            {call.lineno for call in calls if id(call) in managed})


def _dotted(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return func.attr if isinstance(func, ast.Attribute) else ""


def _structure(source: PythonSource, tree: ast.Module, findings: Findings) -> None:
    if tree.body and not any(isinstance(node, (*FUNCTION_NODES, ast.ClassDef)) for node in ast.walk(tree)):
        findings.add("structure.no-functions", WARNING, f"{place_label(source.name)} defines no functions or classes.",
                     "Put the logic into functions with clear names and docstrings, and call them from a short "
                     "main block.", file=source.name, line=1, penalty=0.15)


def _lint(source: PythonSource, tree: ast.Module, findings: Findings) -> None:
    messages = pyflakes_checker.Checker(tree, filename=source.name).messages
    for msg in sorted(messages, key=lambda m: (m.lineno, m.col, type(m).__name__)):
        kind = type(msg).__name__
        is_error = kind in PYFLAKES_ERRORS
        findings.add(
            f"lint.{_KEBAB.sub('-', kind).lower()}",
            ERROR if is_error else WARNING,
            f"{msg.message % msg.message_args}.".replace("..", "."),
            PYFLAKES_SUGGESTIONS.get(kind, "Fix what the linter reports."),
            file=source.name, line=msg.lineno, penalty=0.1 if is_error else 0.04, cap=0.5,
        )
    if not messages:
        findings.praise(f"{place_label(source.name)}: no lint findings.", topic="lint")


def _complexity(source: PythonSource, tree: ast.Module, findings: Findings) -> None:
    visitor = ComplexityVisitor.from_ast(tree)
    blocks = list(visitor.functions)
    for cls in visitor.classes:
        blocks.extend(cls.methods)
    worst = 0
    for block in sorted(blocks, key=lambda b: (b.lineno, b.fullname)):
        worst = max(worst, block.complexity)
        if block.complexity > COMPLEXITY_WARNING:
            is_error = block.complexity > COMPLEXITY_ERROR
            findings.add(
                "complexity.cyclomatic", ERROR if is_error else WARNING,
                f"`{block.fullname}` has cyclomatic complexity {block.complexity} (rank {cc_rank(block.complexity)}).",
                f"Split it into smaller functions or simplify its branches; aim for {COMPLEXITY_WARNING} or less.",
                file=source.name, line=block.lineno, penalty=0.1 if is_error else 0.05, cap=0.3,
            )
        length = block.endline - block.lineno + 1
        if length > FUNCTION_LINES_WARNING:
            findings.add(
                "length.function", WARNING, f"`{block.fullname}` is {length} lines long.",
                f"Extract parts of it into well-named helpers; aim for under {FUNCTION_LINES_WARNING} lines.",
                file=source.name, line=block.lineno, penalty=0.03, cap=0.15,
            )
    if blocks and worst <= COMPLEXITY_WARNING:
        findings.praise(f"{place_label(source.name)}: functions are simple (highest cyclomatic complexity {worst}).",
                        topic="complexity")


def _naming(source: PythonSource, tree: ast.Module, findings: Findings) -> None:
    reported: set[str] = set()

    def report(rule: str, name: str, line: int, message: str, suggestion: str) -> None:
        if name not in reported:
            reported.add(name)
            findings.add(rule, WARNING, message, suggestion, file=source.name, line=line, penalty=0.02, cap=0.1)

    for node, in_function in walk_with_function_flag(tree):
        for name, line, kind in _names_of(node, in_function):
            if name in AMBIGUOUS:
                report("naming.ambiguous", name, line, f"`{name}` is easily confused with 1 or 0.",
                       "Use a descriptive name.")
            elif not _conventional(name, kind):
                expected = "CapWords" if kind == "class" else "snake_case"
                report("naming.convention", name, line, f"{kind.capitalize()} name `{name}` is not {expected}.",
                       f"Rename it in {expected} (PEP 8).")


def _names_of(node: ast.AST, in_function: bool):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield node.name, node.lineno, "function"
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.arg not in ("self", "cls"):
                yield arg.arg, arg.lineno, "argument"
    elif isinstance(node, ast.ClassDef):
        yield node.name, node.lineno, "class"
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        yield node.id, node.lineno, "variable" if in_function else "module variable"


def _conventional(name: str, kind: str) -> bool:
    if kind == "class":
        return bool(CAPWORDS.match(name))
    if kind == "function":
        return bool(SNAKE.match(name) or IMPOSED_FUNCTION_NAMES.match(name))
    if kind == "module variable":  # constants, and aliases of classes or types
        return bool(SNAKE.match(name) or UPPER.match(name) or CAPWORDS.match(name))
    return bool(SNAKE.match(name) or UPPER.match(name))


def _docstrings(source: PythonSource, tree: ast.Module, findings: Findings) -> None:
    definitions = list(public_definitions(tree))
    if not definitions:
        return
    missing = [(name, node) for name, node in definitions if ast.get_docstring(node) is None]
    # A quarter of the file's points depends on docstring coverage, split over the public definitions.
    for name, node in missing:
        findings.add("docstrings.missing", WARNING, f"Public `{name}` has no docstring.",
                     "Add a docstring: one line on what it does, then arguments and return value if not obvious.",
                     file=source.name, line=node.lineno, penalty=0.25 / len(definitions))
    if not missing and len(definitions) >= 2:
        findings.praise(f"{place_label(source.name)}: every public function and class has a docstring.",
                        topic="docstrings")


class _CommentLines:
    """A lizard extension counting the lines that carry comments."""

    def __init__(self) -> None:
        self.lines = 0

    def __call__(self, tokens, reader):
        for token in tokens:
            if reader.get_comment_from_token(token) is not None:
                self.lines += token.count("\n") + 1
            yield token


def _lizard_file(text: Text, findings: Findings) -> None:
    comments = _CommentLines()
    analyser = lizard.FileAnalyzer([comments, *lizard.get_extensions(["nd"])])
    info = analyser.analyze_source_code(text.name, text.text)
    for fn in sorted(info.function_list, key=lambda f: (f.start_line, f.name)):
        if fn.cyclomatic_complexity > COMPLEXITY_WARNING + 5:
            findings.add(
                "complexity.cyclomatic", WARNING,
                f"`{fn.name}` has cyclomatic complexity {fn.cyclomatic_complexity}.",
                "Split it into smaller functions or simplify its branches.",
                file=text.name, line=fn.start_line, penalty=0.05, cap=0.3,
            )
        if fn.nloc > FUNCTION_LINES_WARNING + 10:
            findings.add(
                "length.function", WARNING, f"`{fn.name}` has {fn.nloc} lines of code.",
                "Extract parts of it into well-named helpers.",
                file=text.name, line=fn.start_line, penalty=0.03, cap=0.15,
            )
        if fn.max_nesting_depth > NESTING_WARNING:
            findings.add(
                "nesting.deep", WARNING, f"`{fn.name}` nests blocks {fn.max_nesting_depth} deep.",
                "Return early or extract the inner blocks into functions.",
                file=text.name, line=fn.start_line, penalty=0.04, cap=0.2,
            )
    for number, line in enumerate(text.lines, start=1):
        if len(line) > LONG_LINE:
            findings.add("style.long-line", WARNING, f"Line {number} is {len(line)} characters long.",
                         f"Keep lines under {LONG_LINE} characters.", file=text.name, line=number,
                         penalty=0.01, cap=0.1)
    if info.nloc >= 30 and comments.lines / info.nloc < MIN_COMMENT_RATIO:
        findings.add("comments.few", WARNING,
                     f"{text.name} has {comments.lines} comment line(s) for {info.nloc} lines of code.",
                     "Comment the why of non-obvious parts.", file=text.name, line=1, penalty=0.05)
