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
        # Wildcards never imply markup, scripts or programs; listed exactly, they pass.
        ("image/png", ["image/*"], True),
        ("image/svg+xml", ["image/*"], False),
        ("image/svg+xml", ["image/svg+xml"], True),
        ("text/html", ["text/*"], False),
        ("text/html", ["text/html"], True),
        ("text/xml", ["text/*"], False),
        ("application/xml", ["application/*"], False),
        ("application/xhtml+xml", ["application/*"], False),
        ("application/javascript", ["application/*"], False),
        ("text/javascript", ["text/*"], False),
        ("application/x-dosexec", ["application/*"], False),
        ("application/json", ["application/*"], True),
        ("textual/plain", ["text/*"], False),
        # What the database may hold from before validation: never a crash.
        ("text/x-python", [1, None, "text/x-python"], True),
        ("text/plain", [1], False),
        ("text/plain", [["text/plain"]], False),
        ("text/plain", {"text/plain": True}, False),
        ("text/x-python", "text/x-python", True),
        ("text/x-python", "text/*", True),
        ("t", "text/x-python", False),
        ("text/csv", [" TEXT/CSV "], True),
    ],
)
def test_accepted_types(sniffed, accepted, ok):
    assert is_accepted(sniffed, accepted) is ok


@pytest.mark.parametrize(
    ("content", "wildcard"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "image/*"),
        (HTML, "text/*"),
        (b'<?xml version="1.0"?>\n<a><b/></a>\n', "text/*"),
        (b"#!/usr/bin/env node\nconsole.log(document.cookie)\n", "application/*"),
    ],
    ids=["svg", "html", "xml", "javascript"],
)
def test_wildcards_do_not_accept_what_libmagic_reads_as_active_content(content, wildcard):
    sniffed = sniff_content_type(content)
    assert sniffed.startswith(wildcard[:-1])
    assert not is_accepted(sniffed, [wildcard])
    assert is_accepted(sniffed, [sniffed])
