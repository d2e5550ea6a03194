from scoring import engine
from scoring.tests.helpers import found, points, score

CQ = engine.CODE_QUALITY


def test_a_syntax_error_is_reported_with_its_line_and_stops_further_analysis():
    outcome = score("""\
        import os


        def f(x):
            return (x +
        """)
    assert found(outcome, CQ) == [("syntax.error", "source_code", 5)]
    assert "'(' was never closed" in outcome.feedback[0].message
    assert points(outcome, CQ) == 8.0


def test_pyflakes_findings_carry_their_lines():
    outcome = score('''\
        """Module."""
        import os
        import sys


        def f(x):
            """Doc."""
            y = 1
            return x + z
        ''')
    assert found(outcome, CQ) == [
        ("lint.undefined-name", "source_code", 9),
        ("lint.unused-import", "source_code", 2),
        ("lint.unused-import", "source_code", 3),
        ("lint.unused-variable", "source_code", 8),
    ]
    assert [i.severity for i in outcome.feedback if i.criterion == CQ] == ["error", "warning", "warning", "warning"]


def test_clean_code_has_no_code_quality_findings():
    outcome = score('''\
        """Module."""


        def add(a, b):
            """Sum of a and b."""
            return a + b
        ''')
    assert found(outcome, CQ) == []
    assert points(outcome, CQ) == 40.0


def test_high_cyclomatic_complexity_is_reported_at_the_function():
    branches = "\n".join(f"    if x == {n}:\n        return {n}" for n in range(12))
    outcome = score(f'"""M."""\n\n\ndef pick(x):\n    """Pick."""\n{branches}\n    return -1\n')
    assert found(outcome, CQ) == [("complexity.cyclomatic", "source_code", 4)]
    assert "complexity 13 (rank C)" in outcome.feedback[0].message


def test_a_long_function_is_reported_and_a_short_one_is_not():
    body = "\n".join(f"    print({n})" for n in range(55))
    outcome = score(f'"""M."""\n\n\ndef long():\n    """Long."""\n{body}\n    return 0\n\n\n'
                    'def short():\n    """Short."""\n    return 1\n')
    assert found(outcome, CQ) == [("length.function", "source_code", 4)]
    assert "`long` is 58 lines long" in outcome.feedback[0].message


def test_naming_conventions():
    outcome = score('''\
        """M."""


        class shape:
            """S."""

            def getArea(self, sideLength):
                """A."""
                totalArea = sideLength ** 2
                return totalArea


        def setUp():
            """Imposed by unittest: not flagged."""
            MAX_SIZE = 3
            return MAX_SIZE
        ''')
    assert found(outcome, CQ) == [
        ("naming.convention", "source_code", 4),
        ("naming.convention", "source_code", 7),
        ("naming.convention", "source_code", 7),
        ("naming.convention", "source_code", 9),
    ]
    messages = [i.message for i in outcome.feedback if i.criterion == CQ]
    assert "Class name `shape` is not CapWords." in messages
    assert "Variable name `totalArea` is not snake_case." in messages


def test_docstring_coverage_costs_points_and_names_each_missing_docstring():
    documented = score('''\
        def a():
            """A."""


        def b():
            """B."""
        ''')
    half = score('''\
        def a():
            """A."""


        def b():
            pass


        def _private():
            pass
        ''')
    assert found(documented, CQ) == []
    assert found(half, CQ) == [("docstrings.missing", "source_code", 5)]
    assert points(half, CQ) == 35.0  # half coverage costs 0.25 / 2 of 40 points
    assert points(documented, CQ) == 40.0


def test_code_without_functions_is_told_to_structure_itself():
    outcome = score("print('hello')\n")
    assert found(outcome, CQ) == [("structure.no-functions", "source_code", 1)]


def test_other_languages_get_lizard_metrics():
    js = ("function check(a) {\n  if (a) {\n    if (a.b) {\n      if (a.b.c) {\n        if (a.b.c.d) {\n"
          "          if (a.b.c.d.e) { return 1; }\n        }\n      }\n    }\n  }\n  return 0;\n}\n"
          "function fine(x) { return x + 1; }\n")
    outcome = score("", files=[engine.InputFile("check.js", "text/javascript", js.encode())])
    assert found(outcome, CQ) == [("nesting.deep", "check.js", 1)]
    assert "nests blocks 5 deep" in outcome.feedback[0].message


def test_long_lines_in_other_languages_are_reported_per_line():
    code = "int main() {\n  return 0;\n}\n" + "// " + "x" * 130 + "\n"
    outcome = score("", files=[engine.InputFile("main.c", "text/x-c", code.encode())])
    assert found(outcome, CQ) == [("style.long-line", "main.c", 4)]


def test_no_code_at_all_scores_zero_for_code_quality():
    outcome = score("")
    assert found(outcome, CQ) == [("code.missing", "", None)]
    assert points(outcome, CQ) == 0.0


def test_files_opened_without_a_context_manager_are_reported_and_managed_ones_are_not():
    from scoring.tests.helpers import score as score_source

    outcome = score_source("""\
        import contextlib
        import json
        import os
        import webbrowser


        def load(path, stack: contextlib.ExitStack):
            with open(path) as f:
                f.read()
            handle = stack.enter_context(open(path))
            fd = os.open(path, os.O_RDONLY)
            webbrowser.open("https://example.org")
            data = json.loads(open(path).read())
            return handle, fd, data


        def factory(path):
            return open(path)


        def leaky(path):
            return json.load(open(path))
        """)
    lines = [i.line for i in outcome.feedback if i.rule == "resources.open-without-with"]
    assert lines == [13, 22]
