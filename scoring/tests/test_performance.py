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


def test_copying_concatenation_in_loops_is_reported_and_in_place_growth_is_not():
    assert smells("""\
        def build(words, pairs):
            out = []
            text = ""
            seen = ()
            total = 0
            for w in words:
                out = out + [w]
                out += [w]
                text = f"{text} {w}"
                seen += (w,)
                total = total + len(w)
            return out, text, seen, total
        """) == [("copies.concat-in-loop", 7), ("strings.concat-in-loop", 9), ("copies.concat-in-loop", 10)]


def test_a_nest_of_loops_is_reported_once_with_its_order():
    outcome = score("""\
        def triples(xs):
            n = 0
            for a in xs:
                for b in xs:
                    for c in xs:
                        n += a == b == c
            for i in range(len(xs)):
                for j in range(i + 1, len(xs)):
                    n += xs[i] == xs[j]
            for k in range(n):
                for m in range(n):
                    n += 1
            return n
        """)
    nests = [i for i in outcome.feedback if i.rule == "nested-loops.same-collection"]
    assert [(i.line, i.points) for i in nests] == [(4, 9.0), (8, 4.5)]
    assert "3 loops over `xs`" in nests[0].message and "O(n³)" in nests[0].message
    assert "O(n²)" in nests[1].message


def test_sorting_and_copying_in_loops():
    assert smells("""\
        import copy


        def ranks(scores, groups):
            ranked = []
            for s in scores:
                ranked.append(s)
                ranked.sort()
                best = sorted(ranked)
                snapshot = scores[:]
                deep = copy.deepcopy(scores)
            for group in groups:
                group.sort()
            return best, snapshot, deep
        """) == [("repeated-work.sort-in-loop", 8), ("repeated-work.sort-in-loop", 9),
                 ("repeated-work.copy-in-loop", 10), ("repeated-work.copy-in-loop", 11)]


def test_dict_membership_is_fine_and_keys_membership_in_a_loop_costs_points():
    outcome = score("""\
        def count(words, counts):
            if "x" in counts.keys():
                return counts
            for w in words:
                if w in counts:
                    counts[w] += 1
                if w in counts.keys():
                    counts[w] += 1
            return counts
        """)
    keys = [(i.line, i.severity, i.points) for i in outcome.feedback if i.rule == "membership.dict-keys"]
    assert keys == [(7, "warning", 3.0), (2, "info", 0.0)]
