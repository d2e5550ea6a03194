import pytest

from submissions.filetypes import is_accepted, sniff_content_type

PYTHON = b"import collections\n\n\ndef top(words):\n    return collections.Counter(words).most_common(10)\n"
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def test_type_is_read_from_the_bytes():
    assert sniff_content_type(PYTHON) == "text/x-script.python"
    assert sniff_content_type(HTML) == "text/html"
    assert sniff_content_type(ELF).startswith("application/")
    assert sniff_content_type(b"") == "application/x-empty"


@pytest.mark.parametrize(
    ("sniffed", "accepted", "ok"),
    [
        ("text/x-script.python", ["text/x-python"], True),
        ("text/plain", ["text/csv"], True),
        ("application/json", ["application/json"], True),
        ("text/html", ["text/x-python", "text/plain", "text/csv"], False),
        ("application/x-executable", ["text/x-python"], False),
        ("application/x-pie-executable", ["text/*"], False),
        ("text/x-c", ["text/*"], True),
        ("anything/at-all", [], True),
    ],
)
def test_accepted_types(sniffed, accepted, ok):
    assert is_accepted(sniffed, accepted) is ok
