import pytest

from scoring import engine
from scoring.tests.helpers import found, points, score

PERF = engine.PERFORMANCE


def smells(source: str) -> list[tuple[str, int]]:
    """The smells found, without ruff's idiom hints (info items that cost nothing)."""
    return [(rule, line) for rule, _, line in found(score(source), PERF) if not rule.startswith("idiom.")]


def test_nested_loops_over_the_same_collection():
    assert smells("""\
        def pairs(xs, ys):
            out = []
            for a in xs:
                for b in xs:
                    out.append((a, b))
            for i in range(len(xs)):
                for j in range(len(xs)):
                    out.append((i, j))
            return [(a, b) for a in ys for b in ys]
        """) == [("nested-loops.same-collection", 4), ("nested-loops.same-collection", 7),
                 ("nested-loops.same-collection", 9)]


def test_nested_loops_over_different_collections_are_fine():
    assert smells("""\
        def pairs(xs, ys):
            return [(a, b) for a in xs for b in ys]


        def grid(rows):
            for row in rows:
                for cell in row:
                    print(cell)
        """) == []


def test_membership_in_a_list_inside_a_loop():
    assert smells("""\
        def common(a, b: list):
            allowed = [1, 2, 3]
            return [x for x in a if x in allowed or x in b]
        """) == [("membership.list-in-loop", 3), ("membership.list-in-loop", 3)]


def test_membership_in_a_set_or_outside_loops_is_fine():
    assert smells("""\
        def common(a, items):
            allowed = {1, 2, 3}
            listed = [1, 2]
            if 3 in listed:
                return [x for x in a if x in allowed]
            return []
        """) == []


def test_string_building_by_plus_equals_in_a_loop():
    assert smells("""\
        def render(rows):
            text = ""
            for row in rows:
                text += str(row)
            total = 0
            for row in rows:
                total += row
            return text, total
        """) == [("strings.concat-in-loop", 4)]


def test_repeated_invariant_work_in_loop_bodies():
    assert smells("""\
        def ranks(scores):
            out = []
            for s in scores:
                out.append(sorted(scores).index(s))
            i = 0
            while i < len(scores):
                i += 1
            return out
        """) == [("repeated-work.invariant-call", 4), ("repeated-work.invariant-len", 6)]


def test_work_on_data_that_changes_in_the_loop_is_not_invariant():
    assert smells("""\
        def grow(items):
            while len(items) < 10:
                items.append(max(items) + 1)
            for x in items:
                best = sorted(x)
            return best
        """) == []


def test_recursion_without_memoisation():
    assert smells("""\
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)


        def countdown(n):
            return 0 if n == 0 else countdown(n - 1)
        """) == [("recursion.unmemoised", 1)]


@pytest.mark.parametrize("decorator", ["@functools.cache", "@lru_cache(maxsize=None)", "@cache"])
def test_memoised_recursion_is_fine(decorator):
    assert smells(f"""\
        {decorator}
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        """) == []


def test_front_operations_on_lists_in_loops():
    assert smells("""\
        def drain(queue: list):
            while queue:
                queue.pop(0)
        """) == [("lists.front-operation-in-loop", 3)]


def test_each_smell_costs_points_and_clean_code_keeps_them():
    clean = score("def f(xs):\n    return sorted(xs)\n")
    smelly = score("def f(xs):\n    s = ''\n    for x in xs:\n        s += x\n    return s\n")
    assert points(clean, PERF) == 30.0
    assert points(smelly, PERF) == 25.5


def test_code_that_does_not_parse_cannot_be_assessed():
    outcome = score("def f(:\n")
    assert found(outcome, PERF) == [("code.missing", "", None)]
    assert points(outcome, PERF) == 0.0
