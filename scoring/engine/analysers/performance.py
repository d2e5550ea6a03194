"""Performance smells in Python code, found on the syntax tree (never run).

Each smell is a pattern whose cost grows with the data: quadratic loops,
linear scans repeated per iteration, quadratic string building, exponential
recursion. The analysis is per scope and deliberately simple: a name counts
as a list or a string if the scope ever binds it to one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Findings
from ..types import INFO, PERFORMANCE, WARNING
from ..workspace import PythonSource, Workspace
from .python_ast import FUNCTION_NODES, SCOPE_NODES

WARNING_PENALTY = 0.15
INFO_PENALTY = 0.03
RULE_CAP = 0.45

# O(n) builtins whose result does not change while their argument does not.
LINEAR_BUILTINS = {"sorted", "sum", "max", "min", "list", "set", "tuple", "dict", "any", "all", "reversed"}
MUTATING_METHODS = {
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "add", "discard", "update",
    "setdefault", "popitem", "difference_update", "intersection_update", "symmetric_difference_update",
}
LIST_RETURNING_METHODS = {"split", "rsplit", "splitlines", "readlines"}
STR_RETURNING_METHODS = {"join", "format", "strip", "lstrip", "rstrip", "upper", "lower", "replace", "title"}
MEMO_DECORATORS = {"cache", "lru_cache", "cached", "memoize", "memoized", "cached_property"}
MEMO_HINTS = ("memo", "cache", "seen")

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def analyse(ws: Workspace) -> tuple[float, Findings]:
    findings = Findings(PERFORMANCE)
    parsed = [s for s in ws.python if s.tree is not None]
    if not parsed:
        if ws.other_code:
            findings.add("scope.python-only", INFO, "Performance checks cover Python code only.",
                         "Review loops over the same data and repeated scans by hand.")
            return 1.0, findings
        message = "There is no Python code that parses, so performance could not be assessed."
        if not ws.has_code:
            message = "No source code was submitted, so performance could not be assessed."
        findings.add("code.missing", WARNING, message, "Submit code that parses.")
        return 0.0, findings
    for source in parsed:
        try:
            _SmellFinder(source, findings).visit(source.tree)
        except RecursionError:
            findings.add("input.too-deep", WARNING, f"{source.name} is nested too deeply to analyse completely.",
                         "Flatten the deeply nested expressions or blocks.", file=source.name, line=1,
                         penalty=WARNING_PENALTY)
    if not findings.items:
        findings.strengths.append("No performance smells found: no quadratic loops or repeated scans.")
    return findings.ratio(), findings



def _key(expr: ast.AST) -> str | None:
    """What a loop iterates over, so two loops over the same data compare equal:
    `xs`, `range(len(xs))`, `enumerate(xs)` and `xs.items()` all give `xs`."""
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Name) and func.id in ("range", "enumerate", "reversed", "sorted") and expr.args:
            arg = expr.args[-1] if func.id == "range" else expr.args[0]
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "len" and arg.args:
                arg = arg.args[0]
            return _key(arg) if func.id != "range" or len(expr.args) == 1 else None
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not expr.args:
            return _key(func.value)
        return None
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript)):
        return ast.dump(expr, annotate_fields=False)
    return None


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a scope, not those of functions or classes nested in it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*SCOPE_NODES, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _is_list_expr(value: ast.AST | None) -> bool:
    if isinstance(value, (ast.List, ast.ListComp)):
        return True
    if isinstance(value, ast.Call):
        if isinstance(value.func, ast.Name) and value.func.id in ("list", "sorted"):
            return True
        return isinstance(value.func, ast.Attribute) and value.func.attr in LIST_RETURNING_METHODS
    return False


def _is_str_expr(value: ast.AST | None) -> bool:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return True
    if isinstance(value, ast.JoinedStr):
        return True
    if isinstance(value, ast.Call):
        if isinstance(value.func, ast.Name) and value.func.id in ("str", "repr", "format"):
            return True
        return isinstance(value.func, ast.Attribute) and value.func.attr in STR_RETURNING_METHODS
    return False


def _annotation_names(annotation: ast.AST | None) -> str:
    if annotation is None:
        return ""
    target = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return target.id if isinstance(target, ast.Name) else ""


def _typed_names(scope: ast.AST, own: list[ast.AST]) -> tuple[set[str], set[str]]:
    """Names the scope binds to lists and to strings (``own``: the scope's own nodes)."""
    lists: set[str] = set()
    strings: set[str] = set()
    if isinstance(scope, FUNCTION_NODES):
        args = scope.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            kind = _annotation_names(arg.annotation)
            if kind in ("list", "List"):
                lists.add(arg.arg)
            elif kind == "str":
                strings.add(arg.arg)
    for node in own:
        if isinstance(node, ast.Assign):
            targets, value, annotation = node.targets, node.value, None
        elif isinstance(node, ast.AnnAssign):
            targets, value, annotation = [node.target], node.value, node.annotation
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                if _is_list_expr(value) or _annotation_names(annotation) in ("list", "List"):
                    lists.add(target.id)
                elif _is_str_expr(value) or _annotation_names(annotation) == "str":
                    strings.add(target.id)
    return lists, strings


def _changed_names(loop: ast.AST) -> set[str]:
    """Names a loop body rebinds or mutates in place (so work on them is not invariant)."""
    changed: set[str] = set()
    for node in ast.walk(loop):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            changed.add(node.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if isinstance(node.value, ast.Name):
                changed.add(node.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATING_METHODS and isinstance(node.func.value, ast.Name):
                changed.add(node.func.value.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            changed.update(node.names)
    return changed


class _SmellFinder(ast.NodeVisitor):
    def __init__(self, source: PythonSource, findings: Findings):
        self.source = source
        self.findings = findings
        self.loops: list[tuple[ast.AST, str | None]] = []  # enclosing loops of this scope, innermost last
        self.changed: dict[int, set[str]] = {}
        self.in_iterable = False
        self.module_lists, self.module_strings = _typed_names(source.tree, list(_own_nodes(source.tree)))
        self.lists, self.strings = self.module_lists, self.module_strings

    def report(self, rule: str, severity: str, node: ast.AST, message: str, suggestion: str) -> None:
        penalty = WARNING_PENALTY if severity == WARNING else INFO_PENALTY
        self.findings.add(rule, severity, message, suggestion, file=self.source.name, line=node.lineno,
                          penalty=penalty, cap=RULE_CAP)

    # --- scopes -------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        own = list(_own_nodes(node))
        self._recursion(node, own)
        for decorator in node.decorator_list:
            self.visit(decorator)
        saved = self.loops, self.lists, self.strings
        lists, strings = _typed_names(node, own)
        self.loops, self.lists, self.strings = [], lists | self.module_lists, strings | self.module_strings
        for statement in node.body:
            self.visit(statement)
        self.loops, self.lists, self.strings = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        saved = self.loops
        self.loops = []
        self.visit(node.body)
        self.loops = saved

    # --- loops --------------------------------------------------------------
    def _enter_loop(self, node: ast.AST, iterable: ast.AST | None) -> None:
        key = _key(iterable) if iterable is not None else None
        if key is not None and any(key == outer for _, outer in self.loops):
            name = ast.unparse(iterable)
            self.report(
                "nested-loops.same-collection", WARNING, node,
                f"A loop over `{name}` is nested inside another loop over the same data: O(n²).",
                "Index the data once (a dict or set keyed by what you look up), or use itertools.combinations.",
            )
        self.loops.append((node, key))

    def visit_For(self, node: ast.For) -> None:
        self.in_iterable = True  # evaluated once per run of the loop, not per iteration
        self.visit(node.iter)
        self.in_iterable = False
        self._enter_loop(node, node.iter)
        self.visit(node.target)
        for statement in node.body:
            self.visit(statement)
        self.loops.pop()
        for statement in node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self._enter_loop(node, None)
        self.visit(node.test)  # evaluated on every iteration
        for statement in node.body:
            self.visit(statement)
        self.loops.pop()
        for statement in node.orelse:
            self.visit(statement)

    def _comprehension(self, node: ast.AST, results: list[ast.AST]) -> None:
        depth = len(self.loops)
        for generator in node.generators:
            self.visit(generator.iter)
            self._enter_loop(node, generator.iter)
            self.visit(generator.target)
            for condition in generator.ifs:
                self.visit(condition)
        for result in results:
            self.visit(result)
        del self.loops[depth:]

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _invariant(self, name: str) -> bool:
        loop = self.loops[-1][0]
        if id(loop) not in self.changed:
            self.changed[id(loop)] = _changed_names(loop)
        return name not in self.changed[id(loop)]

    # --- smells inside loops ------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> None:
        if self.loops:
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Name) and right.id in self.lists:
                    self.report(
                        "membership.list-in-loop", WARNING, node,
                        f"`in {right.id}` scans the list `{right.id}` on every iteration: O(n) each time.",
                        f"Build a set once before the loop (`{right.id}_set = set({right.id})`) and test "
                        "membership on it.",
                    )
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        is_text = isinstance(target, ast.Name) and (target.id in self.strings or _is_str_expr(node.value))
        if self.loops and isinstance(node.op, ast.Add) and is_text:
            self.report(
                "strings.concat-in-loop", WARNING, node,
                f"`{target.id} += ...` builds a string piece by piece in a loop, copying it each time.",
                "Collect the pieces in a list and join them once: `''.join(parts)`.",
            )
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if self.loops:
            self._repeated_work(node)
        self.generic_visit(node)

    def _repeated_work(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
            arg = node.args[0].id
            if func.id in LINEAR_BUILTINS and self._invariant(arg):
                self.report(
                    "repeated-work.invariant-call", WARNING, node,
                    f"`{func.id}({arg})` is recomputed on every iteration although `{arg}` does not change "
                    "in the loop.",
                    f"Compute `{func.id}({arg})` once before the loop and reuse the result.",
                )
            elif func.id == "len" and not self.in_iterable and self._invariant(arg):
                self.report(
                    "repeated-work.invariant-len", INFO, node,
                    f"`len({arg})` is recomputed on every iteration although `{arg}` does not change in the loop.",
                    "Cheap here, but hoisting invariant work out of loops is the habit that matters for "
                    "sorted(), sum() and friends.",
                )
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            first = node.args[0] if node.args else None
            at_front = isinstance(first, ast.Constant) and first.value == 0
            if func.attr in ("insert", "pop") and at_front and owner in self.lists:
                self.report(
                    "lists.front-operation-in-loop", WARNING, node,
                    f"`{owner}.{func.attr}(0...)` shifts every element of the list on each iteration.",
                    "Use collections.deque (appendleft/popleft) for a queue.",
                )
            elif func.attr in ("count", "index") and owner in self.lists and self._invariant(owner):
                self.report(
                    "repeated-work.scan-in-loop", WARNING, node,
                    f"`{owner}.{func.attr}()` scans the whole list on every iteration.",
                    "Count or index once before the loop (collections.Counter or a dict).",
                )

    # --- recursion ------------------------------------------------------------
    def _recursion(self, node: ast.FunctionDef, own: list[ast.AST]) -> None:
        calls = [call for call in own if isinstance(call, ast.Call) and _callee_name(call.func) == node.name]
        if len(calls) < 2 or _memoised(node, own):
            return
        self.report(
            "recursion.unmemoised", WARNING, node,
            f"`{node.name}` calls itself {len(calls)} times per call without memoisation: the work can grow "
            "exponentially.",
            "Decorate it with @functools.cache, or compute the values bottom-up in a loop.",
        )


def _callee_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        return func.attr
    return ""


def _memoised(node: ast.FunctionDef, own: list[ast.AST]) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in MEMO_DECORATORS:
            return True
    names = {arg.arg for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]}
    names |= {n.id for n in own if isinstance(n, ast.Name)}
    return any(hint in name.lower() for name in names for hint in MEMO_HINTS)
