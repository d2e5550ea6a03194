"""Performance smells in Python code, found on the syntax tree (never run).

Each smell is a pattern whose cost grows with the data: loops nested over the
same data (reported once per nest, with its order: O(n²), O(n³)), linear
scans repeated per iteration (`in` a list, `.index()`, `.count()`),
collections copied on every iteration (`x = x + [y]`, `s += ...`, `.copy()`,
`.sort()`), exponential recursion. The analysis is per scope and
deliberately simple: a name counts as a list, a tuple or a string if the
scope ever binds it to one.

ruff (ruff_lint.py) adds what it covers: `in d.keys()` (SIM118, a warning
when it sits in a loop) and its PERF idioms (hints).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..findings import Findings, place_label
from ..types import INFO, PERFORMANCE, WARNING
from ..workspace import PythonSource, Workspace
from . import ruff_lint
from .python_ast import FUNCTION_NODES, SCOPE_NODES

WARNING_PENALTY = 0.15
KEYS_PENALTY = 0.1  # `in d.keys()`: a view per test, not a scan, in Python 3
RULE_CAP = 0.45
ORDER = {2: "O(n²)", 3: "O(n³)", 4: "O(n⁴)"}
MAX_LINES_LISTED = 5  # of a nest of loops, in its message

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
        findings.add("code.missing", WARNING, message, "Submit code that parses.", penalty=1.0)
        return 0.0, findings
    for source in parsed:
        try:
            finder = _SmellFinder(source, findings)
            finder.visit(source.tree)
            _ruff(ws, source, finder.membership_in_loop, findings)
        except RecursionError:
            findings.add("input.too-deep", WARNING,
                         f"{place_label(source.name)} is nested too deeply to analyse completely.",
                         "Flatten the deeply nested expressions or blocks.", file=source.name, line=1,
                         penalty=WARNING_PENALTY)
    if not findings.items:
        findings.praise("No performance smells found: no quadratic loops or repeated scans.")
    return findings.ratio(), findings


def _ruff(ws: Workspace, source: PythonSource, membership_in_loop: set[int], findings: Findings) -> None:
    found = ruff_lint.diagnostics(ws, source.name, source.text)
    if isinstance(found, str):  # not linted: code quality says so
        return
    for diagnostic in found:
        if diagnostic.code == "SIM118":
            in_loop = diagnostic.line in membership_in_loop
            findings.add(
                "membership.dict-keys", WARNING if in_loop else INFO,
                "`in ….keys()` " + ("inside a loop builds a keys view on every iteration" if in_loop else
                                    "builds a keys view first") + ": test membership on the dict itself.",
                "Write `key in counts`, not `key in counts.keys()` (and never `key in list(counts)`, a full scan).",
                file=source.name, line=diagnostic.line, penalty=KEYS_PENALTY if in_loop else 0.0, cap=RULE_CAP,
            )
        elif diagnostic.code.startswith("PERF"):
            findings.add(f"idiom.{diagnostic.code}", INFO, f"{diagnostic.message.rstrip('.')}.",
                         f"Rule {diagnostic.code} shows the faster idiom: {diagnostic.url}",
                         file=source.name, line=diagnostic.line)



def _base(expr: ast.AST) -> ast.AST | None:
    """The data a loop runs over, so loops over the same data compare equal:
    `xs`, `range(len(xs))`, `range(i + 1, len(xs))`, `enumerate(xs)`,
    `xs.items()` and `xs[i + 1:]` all give `xs`."""
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Name) and func.id == "range" and expr.args:
            stop = expr.args[1] if len(expr.args) > 1 else expr.args[0]
            if isinstance(stop, ast.Call) and isinstance(stop.func, ast.Name) and stop.func.id == "len" and stop.args:
                return _base(stop.args[0])
            return None
        if isinstance(func, ast.Name) and func.id in ("enumerate", "reversed", "sorted", "list") and expr.args:
            return _base(expr.args[0])
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not expr.args:
            return _base(func.value)
        return None
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
        return _base(expr.value)
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript)):
        return expr
    return None


def _key(expr: ast.AST) -> str | None:
    base = _base(expr)
    return None if base is None else ast.dump(base, annotate_fields=False)


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
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _is_list_expr(value.left) or _is_list_expr(value.right)
    if isinstance(value, ast.Call):
        if isinstance(value.func, ast.Name) and value.func.id in ("list", "sorted"):
            return True
        return isinstance(value.func, ast.Attribute) and value.func.attr in LIST_RETURNING_METHODS
    return False


def _is_tuple_expr(value: ast.AST | None) -> bool:
    if isinstance(value, ast.Tuple):
        return True
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _is_tuple_expr(value.left) or _is_tuple_expr(value.right)
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "tuple"


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


def _typed_names(scope: ast.AST, own: list[ast.AST]) -> tuple[set[str], set[str], set[str]]:
    """Names the scope binds to lists, strings and tuples (``own``: the scope's own nodes)."""
    lists: set[str] = set()
    strings: set[str] = set()
    tuples: set[str] = set()
    if isinstance(scope, FUNCTION_NODES):
        args = scope.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            kind = _annotation_names(arg.annotation)
            if kind in ("list", "List"):
                lists.add(arg.arg)
            elif kind == "str":
                strings.add(arg.arg)
            elif kind in ("tuple", "Tuple"):
                tuples.add(arg.arg)
    for node in own:
        if isinstance(node, ast.Assign):
            targets, value, annotation = node.targets, node.value, None
        elif isinstance(node, ast.AnnAssign):
            targets, value, annotation = [node.target], node.value, node.annotation
        else:
            continue
        kind = _annotation_names(annotation)
        for target in targets:
            if isinstance(target, ast.Name):
                if _is_list_expr(value) or kind in ("list", "List"):
                    lists.add(target.id)
                elif _is_str_expr(value) or kind == "str":
                    strings.add(target.id)
                elif _is_tuple_expr(value) or kind in ("tuple", "Tuple"):
                    tuples.add(target.id)
    return lists, strings, tuples


def _changed_names(loop: ast.AST) -> tuple[set[str], set[str]]:
    """Names a loop rebinds (assigns, deletes, or binds as its target), and
    those it rebinds or mutates in place (so work on them is not invariant)."""
    rebound: set[str] = set()
    mutated: set[str] = set()
    for node in ast.walk(loop):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            rebound.add(node.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if isinstance(node.value, ast.Name):
                mutated.add(node.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATING_METHODS and isinstance(node.func.value, ast.Name):
                mutated.add(node.func.value.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            rebound.update(node.names)
    return rebound, rebound | mutated


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


class _Nest:
    """The deepest chain of loops over the same data found under one outer loop."""

    def __init__(self, chain: list[ast.AST], name: str):
        self.chain = chain
        self.name = name


class _SmellFinder(ast.NodeVisitor):
    def __init__(self, source: PythonSource, findings: Findings):
        self.source = source
        self.findings = findings
        self.loops: list[tuple[ast.AST, str | None]] = []  # enclosing loops of this scope, innermost last
        self.nests: dict[int, _Nest] = {}  # by id() of the outermost loop of a nest
        self.changed: dict[int, tuple[set[str], set[str]]] = {}
        self.in_iterable = False
        self.membership_in_loop: set[int] = set()  # lines with an `in` test inside a loop
        self.reported: set[int] = set()  # id() of calls already reported (as the list of a membership test)
        own = list(_own_nodes(source.tree))
        self.module_lists, self.module_strings, self.module_tuples = _typed_names(source.tree, own)
        self.lists, self.strings, self.tuples = self.module_lists, self.module_strings, self.module_tuples

    def report(self, rule: str, severity: str, node: ast.AST, message: str, suggestion: str, *,
               weight: int = 1) -> None:
        penalty = WARNING_PENALTY * weight if severity == WARNING else 0.0
        self.findings.add(rule, severity, message, suggestion, file=self.source.name, line=node.lineno,
                          penalty=penalty, cap=RULE_CAP)

    # --- scopes -------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        own = list(_own_nodes(node))
        self._recursion(node, own)
        for decorator in node.decorator_list:
            self.visit(decorator)
        saved = self.loops, self.lists, self.strings, self.tuples
        lists, strings, tuples = _typed_names(node, own)
        self.loops = []
        self.lists, self.strings = lists | self.module_lists, strings | self.module_strings
        self.tuples = tuples | self.module_tuples
        for statement in node.body:
            self.visit(statement)
        self.loops, self.lists, self.strings, self.tuples = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        saved = self.loops
        self.loops = []
        self.visit(node.body)
        self.loops = saved

    # --- loops --------------------------------------------------------------
    def _enter_loop(self, node: ast.AST, iterable: ast.AST | None) -> None:
        key = _key(iterable) if iterable is not None else None
        same = [outer for outer, outer_key in self.loops if key is not None and outer_key == key]
        if same:
            nest = self.nests.get(id(same[0]))
            if nest is None or len(nest.chain) < len(same) + 1:
                self.nests[id(same[0])] = _Nest([*same, node], ast.unparse(_base(iterable)))
        self.loops.append((node, key))

    def _leave_loops(self, depth: int) -> None:
        """Pop the loops above ``depth``, reporting each nest once, at its
        first nested loop, with its order."""
        while len(self.loops) > depth:
            node, _ = self.loops.pop()
            nest = self.nests.pop(id(node), None)
            if nest is None:
                continue
            levels = len(nest.chain)
            order = ORDER.get(levels, f"O(n^{levels})")
            lines = ", ".join(str(loop.lineno) for loop in nest.chain[:MAX_LINES_LISTED])
            lines += ", …" if levels > MAX_LINES_LISTED else ""
            self.report(
                "nested-loops.same-collection", WARNING, nest.chain[1],
                f"{levels} loops over `{nest.name}` are nested in each other (lines {lines}): {order} in the "
                f"size of `{nest.name}`.",
                "Index the data once (a dict or set keyed by what you look up), sort it once, or use "
                "itertools.combinations for pairs.",
                weight=levels - 1,
            )

    def visit_For(self, node: ast.For) -> None:
        self.in_iterable = True  # evaluated once per run of the loop, not per iteration
        self.visit(node.iter)
        self.in_iterable = False
        depth = len(self.loops)
        self._enter_loop(node, node.iter)
        self.visit(node.target)
        for statement in node.body:
            self.visit(statement)
        self._leave_loops(depth)
        for statement in node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        depth = len(self.loops)
        self._enter_loop(node, None)
        self.visit(node.test)  # evaluated on every iteration
        for statement in node.body:
            self.visit(statement)
        self._leave_loops(depth)
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
        self._leave_loops(depth)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _names_changed(self) -> tuple[set[str], set[str]]:
        loop = self.loops[-1][0]
        if id(loop) not in self.changed:
            self.changed[id(loop)] = _changed_names(loop)
        return self.changed[id(loop)]

    def _invariant(self, name: str) -> bool:
        return name not in self._names_changed()[1]

    def _rebound(self, name: str) -> bool:
        return name in self._names_changed()[0]

    # --- smells inside loops ------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> None:
        if self.loops:
            for op, right in zip(node.ops, node.comparators, strict=True):
                if not isinstance(op, (ast.In, ast.NotIn)):
                    continue
                self.membership_in_loop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                if isinstance(right, ast.Name) and right.id in self.lists:
                    self.report(
                        "membership.list-in-loop", WARNING, node,
                        f"`in {right.id}` scans the list `{right.id}` on every iteration: O(n) each time.",
                        f"Build a set once before the loop (`{right.id}_set = set({right.id})`) and test "
                        "membership on it.",
                    )
                elif isinstance(right, (ast.Call, ast.ListComp)) and _is_list_expr(right):
                    self.reported.add(id(right))
                    self.report(
                        "membership.list-in-loop", WARNING, node,
                        f"`in {_short(right)}` builds a list and scans it on every iteration: O(n) each time.",
                        "Build a set once before the loop and test membership on it.",
                    )
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value
        if (self.loops and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add)):
            name = node.targets[0].id
            if _is_name(value.left, name) or _is_name(value.right, name):
                other = value.right if _is_name(value.left, name) else value.left
                self._copying_concat(node, name, other, f"{name} = {_short(value)}")
        elif self.loops and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(value, ast.JoinedStr):  # s = f"{s}{word}" rebuilds s as well
            name = node.targets[0].id
            if any(isinstance(part, ast.FormattedValue) and _is_name(part.value, name) for part in value.values):
                self._copying_concat(node, name, value, f"{name} = {_short(value)}")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if self.loops and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name in self.tuples or _is_tuple_expr(node.value) or name in self.strings or _is_str_expr(node.value):
                self._copying_concat(node, name, node.value, f"{name} += ...")  # list += extends in place
        self.generic_visit(node)

    def _copying_concat(self, node: ast.AST, name: str, other: ast.AST, shown: str) -> None:
        if name in self.strings or _is_str_expr(other):
            self.report(
                "strings.concat-in-loop", WARNING, node,
                f"`{shown}` builds a string piece by piece in a loop, copying it each time: O(n²) in total.",
                "Collect the pieces in a list and join them once: `''.join(parts)`.",
            )
        elif name in self.lists or _is_list_expr(other):
            self.report(
                "copies.concat-in-loop", WARNING, node,
                f"`{shown}` copies the whole list `{name}` on every iteration: O(n²) in total.",
                f"Append to the list in place: `{name}.append(item)` (or `{name}.extend(items)`).",
            )
        elif name in self.tuples or _is_tuple_expr(other):
            self.report(
                "copies.concat-in-loop", WARNING, node,
                f"`{shown}` copies the whole tuple `{name}` on every iteration: O(n²) in total.",
                "Collect the items in a list with append(), and make it a tuple once after the loop.",
            )

    def visit_Call(self, node: ast.Call) -> None:
        if self.loops and id(node) not in self.reported:
            self._repeated_work(node)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        whole = isinstance(node.slice, ast.Slice) and node.slice.lower is None and node.slice.upper is None \
            and node.slice.step is None
        if self.loops and whole and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name) \
                and not self.in_iterable and self._invariant(node.value.id):
            self._copy_in_loop(node, node.value.id, f"{node.value.id}[:]")
        self.generic_visit(node)

    def _copy_in_loop(self, node: ast.AST, name: str, shown: str) -> None:
        self.report(
            "repeated-work.copy-in-loop", WARNING, node,
            f"`{shown}` copies `{name}` on every iteration although `{name}` does not change in the loop.",
            f"Copy `{name}` once before the loop, or read it without copying.",
        )

    def _repeated_work(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and len(node.args) == 1 and isinstance(node.args[0], ast.Name):
            self._builtin_on_name(node, func.id, node.args[0].id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            self._method_on_name(node, func.value.id, func.attr)

    def _builtin_on_name(self, node: ast.Call, func: str, arg: str) -> None:
        if func in LINEAR_BUILTINS and self._invariant(arg):
            self.report(
                "repeated-work.invariant-call", WARNING, node,
                f"`{func}({arg})` is recomputed on every iteration although `{arg}` does not change in the loop.",
                f"Compute `{func}({arg})` once before the loop and reuse the result.",
            )
        elif func == "sorted" and not self.in_iterable and not self._rebound(arg):
            self._sort_in_loop(node, f"sorted({arg})", arg)
        elif func == "len" and not self.in_iterable and self._invariant(arg):
            self.report(
                "repeated-work.invariant-len", INFO, node,
                f"`len({arg})` is recomputed on every iteration although `{arg}` does not change in the loop.",
                "Cheap here, but hoisting invariant work out of loops is the habit that matters for "
                "sorted(), sum() and friends.",
            )

    def _method_on_name(self, node: ast.Call, owner: str, method: str) -> None:
        first = node.args[0] if node.args else None
        at_front = isinstance(first, ast.Constant) and first.value == 0
        if owner == "copy" and method in ("copy", "deepcopy") and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Name) and self._invariant(node.args[0].id):
            self._copy_in_loop(node, node.args[0].id, f"copy.{method}({node.args[0].id})")
        elif method in ("insert", "pop") and at_front and owner in self.lists:
            self.report(
                "lists.front-operation-in-loop", WARNING, node,
                f"`{owner}.{method}(0...)` shifts every element of the list on each iteration.",
                "Use collections.deque (appendleft/popleft) for a queue.",
            )
        elif method in ("count", "index") and owner in self.lists and self._invariant(owner):
            self.report(
                "repeated-work.scan-in-loop", WARNING, node,
                f"`{owner}.{method}()` scans the whole list on every iteration.",
                "Count or index once before the loop (collections.Counter or a dict).",
            )
        elif method == "sort" and not node.args and not self._rebound(owner):
            self._sort_in_loop(node, f"{owner}.sort()", owner)
        elif method == "copy" and not node.args and owner in self.lists and self._invariant(owner):
            self._copy_in_loop(node, owner, f"{owner}.copy()")

    def _sort_in_loop(self, node: ast.Call, shown: str, name: str) -> None:
        self.report(
            "repeated-work.sort-in-loop", WARNING, node,
            f"`{shown}` sorts all of `{name}` again on every iteration: O(n² log n) in total.",
            "Sort once after the loop, or keep the data ordered as you add to it (bisect.insort or heapq).",
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


def _short(node: ast.AST, limit: int = 40) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
