"""What a stored file really is (sniffed from its bytes by libmagic) and
whether an assignment accepts it."""

import re

import magic

# Bytes handed to libmagic. Its text and script tests look at the beginning
# of a file; 64 KiB covers every test in the default magic database.
SNIFF_BYTES = 64 * 1024

# What staff may list: ``type/subtype`` or ``type/*`` (RFC 6838 name
# characters, lower case, no parameters).
_NAME = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_ACCEPTED_TYPE_RE = re.compile(rf"{_NAME}/(?:{_NAME}|\*)")

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

# Content a browser renders or runs (markup, scripts) and programs: a wildcard
# means "any picture" or "any text", never these. Listed exactly, they pass.
_NEVER_BY_WILDCARD = frozenset({
    "text/html",
    "application/x-executable",
    "application/x-pie-executable",
    "application/x-sharedlib",
    "application/x-dosexec",
    "application/x-mach-binary",
    "application/vnd.microsoft.portable-executable",
})


def sniff_content_type(head: bytes) -> str:
    """The MIME type libmagic reads from the first bytes of a file."""
    if not head:
        return "application/x-empty"
    return magic.from_buffer(head[:SNIFF_BYTES], mime=True)


def is_accepted_type_pattern(value: str) -> bool:
    """True for ``type/subtype`` or ``type/*`` as staff may list it (lower case)."""
    return bool(_ACCEPTED_TYPE_RE.fullmatch(value))


def accepted_type_list(value) -> list[str]:
    """The well-formed types in an assignment's stored setting, lower-cased.

    Tolerates what the database may hold from before validation: a bare
    string counts as one type; anything else malformed is dropped."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    types = (item.strip().lower() for item in value if isinstance(item, str))
    return list(dict.fromkeys(t for t in types if is_accepted_type_pattern(t)))


def is_accepted(sniffed: str, accepted_types) -> bool:
    """True when the sniffed type satisfies one of the accepted types.

    An empty setting accepts any type. A setting with nothing well-formed in
    it accepts nothing: a broken restriction must not turn into none at all.
    ``type/*`` wildcards are honoured, except for markup, scripts and programs.
    """
    if not accepted_types:
        return True
    sniffed = sniffed.strip().lower()
    return any(_matches(sniffed, accepted) for accepted in accepted_type_list(accepted_types))


def _matches(sniffed: str, accepted: str) -> bool:
    if accepted == sniffed or sniffed in _ALSO_ACCEPTS.get(accepted, ()):
        return True
    if not accepted.endswith("/*") or _never_by_wildcard(sniffed):
        return False
    return sniffed.partition("/")[0] == accepted.partition("/")[0]


def _never_by_wildcard(sniffed: str) -> bool:
    subtype = sniffed.partition("/")[2]
    return (
        sniffed in _NEVER_BY_WILDCARD
        or subtype in {"xml", "xhtml"}
        or subtype.endswith("+xml")  # SVG, XHTML, RSS, ...
        or "javascript" in subtype
        or "ecmascript" in subtype
    )
