import pytest

from scoring import engine
from scoring.tests.helpers import found, points, rubric, score

DATA = engine.DATA_FILES
CODE = 'def f():\n    """F."""\n'
SCHEMA = {"type": "array", "items": {"type": "object", "required": ["id"],
                                     "properties": {"id": {"type": "integer"}}}}


def with_data(name, content, content_type="", **rubric_kwargs):
    spec = rubric(("code_quality", 50), ("data_files", 50), **rubric_kwargs)
    data = content if isinstance(content, bytes) else content.encode()
    return score(CODE, files=[engine.InputFile(name, content_type, data)], rubric=spec)


def test_a_consistent_csv_with_the_required_headers_gets_full_points():
    outcome = with_data("d.csv", "date,amount\n2024-01-01,3\n2024-01-02,4\n", csv_required_headers=["Date"])
    assert found(outcome, DATA) == []
    assert points(outcome, DATA) == 50.0


def test_csv_rows_with_another_column_count_are_reported_at_their_lines():
    csv_text = 'a,b,c\n1,2,3\n"multi\nline",2,3\n1,2\n\n1,2,3,4\n'
    outcome = with_data("d.csv", csv_text)
    assert found(outcome, DATA) == [("csv.column-count", "d.csv", 5), ("csv.column-count", "d.csv", 7)]
    assert outcome.feedback[-2].message == "Line 5 has 2 field(s); the header has 3."


def test_missing_required_headers_and_duplicate_columns():
    outcome = with_data("d.csv", "amount,amount\n1,2\n", csv_required_headers=["date", "amount"])
    assert found(outcome, DATA) == [("csv.missing-columns", "d.csv", 1), ("csv.duplicate-columns", "d.csv", 1)]


def test_semicolon_and_tab_separated_files_are_sniffed():
    assert found(with_data("d.csv", "a;b\n1;2\n3;4\n"), DATA) == []
    assert found(with_data("d.tsv", "a\tb\n1\t2\n"), DATA) == []


def test_a_file_that_is_not_utf8_is_reported_at_the_line_of_the_bad_byte():
    outcome = with_data("d.csv", b"a,b\n1,2\ncaf\xe9,3\n")
    assert found(outcome, DATA) == [("encoding.invalid", "d.csv", 3)]
    assert points(outcome, DATA) == 0.0


def test_malformed_quoting_is_reported():
    outcome = with_data("d.csv", 'a,b\n1,"x"y\n')
    assert found(outcome, DATA) == [("csv.malformed", "d.csv", 2)]


def test_invalid_json_is_reported_at_its_line():
    outcome = with_data("d.json", '{\n  "a": 1,\n  "b": [1, 2,]\n}\n')
    assert found(outcome, DATA) == [("json.invalid", "d.json", 3)]


def test_json_schema_violations_are_reported_at_the_offending_values():
    text = '[\n  {"id": 1},\n  {"id": "two"},\n  {\n    "name": "x"\n  }\n]\n'
    outcome = with_data("d.json", text, json_schema=SCHEMA)
    assert found(outcome, DATA) == [("json.schema", "d.json", 3), ("json.schema", "d.json", 4)]
    assert [i.message for i in outcome.feedback if i.criterion == DATA] == [
        "$[1].id: 'two' is not of type 'integer'.",
        "$[2]: 'id' is a required property.",
    ]


def test_json_matching_the_schema_gets_full_points():
    outcome = with_data("d.json", '[{"id": 1}, {"id": 2}]', json_schema=SCHEMA)
    assert found(outcome, DATA) == []
    assert points(outcome, DATA) == 50.0


def test_a_rubric_that_expects_data_without_an_attachment():
    outcome = score(CODE, rubric=rubric(("code_quality", 50), ("data_files", 50)))
    assert found(outcome, DATA) == [("data.missing", "", None)]


def test_files_are_recognised_by_content_type_when_the_name_has_no_extension():
    outcome = with_data("export", "a,b\n1,2,3\n", content_type="text/csv")
    assert found(outcome, DATA) == [("csv.column-count", "export", 2)]


def test_an_invalid_schema_is_refused_as_a_rubric_problem():
    with pytest.raises(engine.ScoringRejected) as caught:
        with_data("d.json", "[]", json_schema={"type": "no-such-type"})
    assert caught.value.code == "invalid_rubric"


def test_a_remote_ref_is_never_fetched():
    schema = {"$ref": "https://example.invalid/schema.json"}
    with pytest.raises(engine.ScoringRejected) as caught:
        with_data("d.json", "[]", json_schema=schema)
    assert caught.value.code == "invalid_rubric"
