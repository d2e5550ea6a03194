"""What a stored file really is (sniffed from its bytes by libmagic) and
whether an assignment accepts it."""

import magic

# Bytes handed to libmagic. Its text and script tests look at the beginning
# of a file; 64 KiB covers every test in the default magic database.
SNIFF_BYTES = 64 * 1024

# libmagic names some types differently from the common names staff type
# ("text/x-script.python" for "text/x-python"), and a short CSV, JSON, Markdown
# or Python file carries no mark beyond being plain text. Each accepted type
# therefore also accepts these sniffed types. HTML, XML, SVG and executables
# are never implied by anything: they are accepted only when listed.
_ALSO_ACCEPTS: dict[str, frozenset[str]] = {
    "text/x-python": frozenset({"text/x-script.python", "text/plain"}),
    "text/x-script.python": frozenset({"text/x-python", "text/plain"}),
    "text/csv": frozenset({"text/plain", "application/csv"}),
    "application/json": frozenset({"text/plain"}),
    "text/markdown": frozenset({"text/plain"}),
}


def sniff_content_type(head: bytes) -> str:
    """The MIME type libmagic reads from the first bytes of a file."""
    if not head:
        return "application/x-empty"
    return magic.from_buffer(head[:SNIFF_BYTES], mime=True)


def is_accepted(sniffed: str, accepted_types: list[str]) -> bool:
    """True when the sniffed type satisfies one of the accepted types.

    An empty list accepts any type; ``text/*`` style wildcards are honoured.
    """
    if not accepted_types:
        return True
    sniffed = sniffed.lower()
    for accepted in (a.strip().lower() for a in accepted_types):
        if accepted == sniffed or sniffed in _ALSO_ACCEPTS.get(accepted, ()):
            return True
        if accepted.endswith("/*") and sniffed.startswith(accepted[:-1]):
            return True
    return False
