"""Small helpers over Python syntax trees shared by the analysers."""

from __future__ import annotations

import ast
from collections.abc import Iterator

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While)


def walk_with_function_flag(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it sits inside a function body. Iterative, so a
    deep tree cannot exhaust the interpreter's stack."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        yield node, in_function
        inner = in_function or isinstance(node, SCOPE_NODES)
        stack.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))


def public_definitions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Module-level functions and classes and the methods of classes whose
    names do not start with an underscore (dunder methods excluded)."""
    for node in tree.body:
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)) and not node.name.startswith("_"):
            yield node.name, node
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, FUNCTION_NODES) and not member.name.startswith("_"):
                        yield f"{node.name}.{member.name}", member


def defined_names(tree: ast.Module) -> list[str]:
    """Names of the public functions, classes and methods a module defines."""
    return [name.rsplit(".", 1)[-1] for name, _ in public_definitions(tree)]
