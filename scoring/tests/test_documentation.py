from textwrap import dedent

from scoring import engine
from scoring.engine.analysers.documentation import automated_readability_index, read_document
from scoring.engine.workspace import Text
from scoring.tests.helpers import DOC, found, points, score

DOCS = engine.DOCUMENTATION
CODE = '''\
def load(path):
    """Load."""


def save(path):
    """Save."""
'''


def test_documentation_with_every_section_an_example_and_references():
    doc = DOC.replace("Import the function", "Import `load` and `save`").replace("main()", "load('x')") + (
        "More words to reach the target length of a complete description. " * 12
    )
    outcome = score(CODE, doc)
    assert found(outcome, DOCS) == []
    assert points(outcome, DOCS) == 30.0


def test_missing_sections_code_example_and_length_are_reported():
    outcome = score(CODE, "Loads and saves files.")
    assert found(outcome, DOCS) == [
        ("examples.no-code", "", None),
        ("examples.no-section", "", None),
        ("length.short", "", None),
        ("references.none", "", None),
        ("sections.missing", "", None),
        ("sections.missing", "", None),
    ]


def test_sections_are_recognised_in_markdown_rst_and_label_styles():
    doc = dedent("""\
        Overview
        ========

        Short.

        How to use
        ----------

        Run it.

        **Examples:**

            >>> load("data.txt")
        """)
    outcome = score(CODE, doc)
    rules = found(outcome, DOCS)
    assert ("sections.missing", "", None) not in rules
    assert ("sections.short", "documentation", 1) in rules  # "Overview", 1 word
    assert ("sections.short", "documentation", 6) in rules  # "How to use", 2 words
    assert ("examples.no-code", "", None) not in rules


def test_an_untitled_opening_paragraph_counts_as_the_overview():
    doc = "# Loader\n\n" + "This library loads and saves small files for the exercises in week two. " * 2
    assert ("sections.missing", "", None) in found(score(CODE, doc), DOCS)
    messages = [i.message for i in score(CODE, doc).feedback if i.rule in ("sections.missing", "examples.no-section")]
    assert messages == ["The documentation has no Examples section.", "The documentation has no Usage section."]


def test_code_functions_not_mentioned_are_named():
    outcome = score(CODE, "Use `load` to read a file.")
    item = next(i for i in outcome.feedback if i.rule.startswith("references"))
    assert (item.rule, item.message) == ("references.partial", "The documentation does not mention `save`.")


def test_hard_to_read_documentation_is_reported_at_its_first_sentence():
    hard = ("Notwithstanding considerable methodological heterogeneity, this implementation operationalises "
            "frequency enumeration through case-normalised tokenisation, subsequently aggregating occurrences "
            "via hash-based multiset accumulation, thereby facilitating identification of disproportionately "
            "recurrent lexemes.")
    outcome = score(CODE, "# Title\n\n## Overview\n\n" + hard + "\n" + hard + "\n")
    assert ("readability.hard", "documentation", 5) in found(outcome, DOCS)


def test_readability_index_of_plain_text_is_low():
    doc = read_document(Text("d", "The cat sat on the mat. It was a good day. We had fun in the sun."))
    assert doc.words == 17 and len(doc.sentences) == 3
    assert automated_readability_index(doc) < 2


def test_readme_attachments_count_as_documentation():
    readme = engine.InputFile("README.md", "text/markdown", DOC.encode())
    with_readme = score(CODE, "", files=[readme])
    without = score(CODE, "")
    assert found(without, DOCS) == [("doc.missing", "", None)]
    assert points(with_readme, DOCS) > points(without, DOCS) == 0.0


def test_textstat_is_not_imported_by_the_engine():
    # textstat would call nltk.download() at run time; the engine must stay offline.
    import sys

    score(CODE, DOC)
    assert "textstat" not in sys.modules and "nltk" not in sys.modules
