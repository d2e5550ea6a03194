"""Documentation: expected sections and their depth, length, readability,
code examples, and references to the code it documents.

Readability is the Automated Readability Index (characters per word, words per
sentence). textstat was the first choice, but its syllable-based formulas call
nltk.download('cmudict') at run time when the corpus is missing, and this
engine must never touch the network; ARI needs no syllable data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..findings import Findings, place_label
from ..types import DOCUMENTATION, ERROR, INFO, WARNING
from ..workspace import Text, Workspace
from .python_ast import defined_names

TARGET_WORDS = 150
MIN_SECTION_WORDS = 15
MIN_WORDS_FOR_READABILITY = 40
HARD_GRADE = 14.0  # ARI: roughly the US school grade needed to follow the text
LONG_SENTENCE_WORDS = 40

WEIGHTS = {"length": 0.25, "section": 0.15, "examples": 0.1, "references": 0.1, "readability": 0.1}

SECTIONS = {
    "overview": ("overview", "introduction", "intro", "about", "description", "summary", "purpose", "background",
                 "what it does"),
    "usage": ("usage", "how to use", "how to run", "running", "getting started", "quick start", "quickstart",
              "installation", "install", "setup", "api", "interface"),
    "examples": ("example", "examples", "sample", "samples", "demo", "tutorial"),
}
SECTION_TITLES = {"overview": "Overview", "usage": "Usage", "examples": "Examples"}
SECTION_SUGGESTIONS = {
    "overview": "Start with an Overview: what the code does and why, in a few sentences.",
    "usage": "Add a Usage section: how to call or run the code, its inputs and outputs.",
    "examples": "Add an Examples section with a short call and the result it gives.",
}

# Learner text is hostile: no pattern here may backtrack more than a constant
# per character, whatever the line (possessive quantifiers, anchored matches,
# and plain string operations where a pattern would need an ambiguous tail;
# scoring/tests/test_linear_patterns.py tries every one on long adversarial
# lines). google-re2 guarantees linear time too, but its Python binding costs
# 10-40x per call on the short lines scanned here (measured: findall 147 us vs
# 3.5 us on one line).
ATX_HEADING = re.compile(r"^\s{0,3}+#{1,6}+\s++(.*)")  # the title's closing #s are stripped in code
UNDERLINE = re.compile(r"^\s{0,3}+(?:=++|-++|~++|\^++)\s*+$")
LABEL = re.compile(r"^[A-Za-z][A-Za-z ]{1,30}")  # a bold or colon-ended label line, once its marks are stripped
LABEL_MARKS = ("**", "__")
FENCE = re.compile(r"^\s{0,3}+(?:```|~~~)")
LIST_ITEM = re.compile(r"^\s*+(?:[-*+]|\d++[.)])\s")
WORD = re.compile(r"[^\W_][\w'’-]*+")
# A run of sentence marks is tried at its start only, so a long run of dots
# that is not followed by a space costs one pass, not one pass per dot.
SENTENCE_END = re.compile(r"(?<![.!?])[.!?]++(?=\s|$)")
IDENTIFIER = re.compile(r"\w++")


@dataclass
class Heading:
    line: int
    title: str
    words: int = 0  # in the section's body


@dataclass
class Sentence:
    line: int
    words: int = 0


@dataclass
class Document:
    name: str
    headings: list[Heading] = field(default_factory=list)
    code_blocks: int = 0
    intro_words: int = 0  # prose before the first heading (after a title)
    words: int = 0
    letters: int = 0
    sentences: list[Sentence] = field(default_factory=list)
    prose: str = ""


def analyse(ws: Workspace) -> tuple[float, Findings]:
    """Each finding costs its part of the criterion (WEIGHTS), so the ratio is
    one minus the penalties of the items and every lost point has an item."""
    findings = Findings(DOCUMENTATION)
    unreadable = [piece for piece in ws.unanalysed if piece.criterion == DOCUMENTATION]
    for piece in unreadable:
        # Beside readable documentation an unreadable file is only reported; alone it costs everything.
        findings.add("input.unreadable", ERROR, piece.message, piece.suggestion, file=piece.name, line=piece.line,
                     penalty=0.0 if ws.docs else 1.0)
    if not ws.docs:
        if not unreadable:
            findings.add("doc.missing", ERROR, "No documentation was submitted.",
                         "Explain what the code does, how to use it, and give an example.", penalty=1.0)
        return 0.0, findings
    docs = [read_document(text) for text in ws.docs]
    _length(docs, findings)
    _sections(docs, findings)
    _examples(docs, findings)
    _references(docs, ws, findings)
    _readability(docs, findings)
    return findings.ratio(), findings


def read_document(text: Text) -> Document:
    doc = Document(text.name)
    lines = text.lines
    in_fence = in_code = False
    sentence: Sentence | None = None
    prose: list[str] = []
    previous_blank = True
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            doc.code_blocks += 0 if in_fence else 1
            sentence = _end(doc, sentence)
            continue
        if in_fence:
            continue
        next_line = lines[number] if number < len(lines) else ""
        title = _heading_title(line, next_line)
        if title is not None:
            doc.headings.append(Heading(number, title))
            sentence = _end(doc, sentence)
            continue
        if UNDERLINE.match(line) and doc.headings and doc.headings[-1].line == number - 1:
            continue
        if not line.strip():
            sentence = _end(doc, sentence)
            previous_blank = True
            continue
        indented = line.startswith(("    ", "\t")) and (previous_blank or in_code) and not LIST_ITEM.match(line)
        if indented or line.lstrip().startswith(">>>"):
            doc.code_blocks += 0 if in_code else 1
            in_code, previous_blank = True, False
            continue
        in_code = previous_blank = False
        if LIST_ITEM.match(line):
            sentence = _end(doc, sentence)
        sentence = _prose_line(doc, line, number, sentence)
        prose.append(line)
    _end(doc, sentence)
    doc.prose = "\n".join(prose)
    return doc


def _heading_title(line: str, next_line: str) -> str | None:
    match = ATX_HEADING.match(line)
    if match:
        return match.group(1).rstrip().rstrip("#").rstrip()  # "## Usage ##" -> "Usage"
    if line.strip() and UNDERLINE.match(next_line) and not LIST_ITEM.match(line):
        return line.strip()
    label = _label(line)
    if label and _section_of(label):
        return label
    return None


def _label(line: str) -> str | None:
    """The label of a line such as "**Usage:**", "__Examples__" or "Overview:".

    Read from both ends with string operations: as one pattern, the optional
    marks and spaces around the colon made a line of a word and many spaces
    backtrack in cubic time."""
    text = line.strip()
    text = _without_prefix(text, LABEL_MARKS)
    text = _without_suffix(text.rstrip(), LABEL_MARKS).rstrip()
    text = _without_suffix(text, (":",)).rstrip()
    text = _without_suffix(text, LABEL_MARKS)
    if len(text) <= 31 and LABEL.fullmatch(text):
        return text
    return None


def _without_prefix(text: str, marks: tuple[str, ...]) -> str:
    for mark in marks:
        if text.startswith(mark):
            return text[len(mark):]
    return text


def _without_suffix(text: str, marks: tuple[str, ...]) -> str:
    for mark in marks:
        if text.endswith(mark):
            return text[:-len(mark)]
    return text


def _prose_line(doc: Document, line: str, number: int, sentence: Sentence | None) -> Sentence | None:
    position = 0
    for end in SENTENCE_END.finditer(line):
        sentence = _count(doc, line[position:end.end()], number, sentence)
        sentence = _end(doc, sentence)
        position = end.end()
    return _count(doc, line[position:], number, sentence)


def _count(doc: Document, chunk: str, number: int, sentence: Sentence | None) -> Sentence | None:
    words = WORD.findall(chunk)
    if not words:
        return sentence
    if sentence is None:
        sentence = Sentence(number)
    sentence.words += len(words)
    doc.words += len(words)
    doc.letters += sum(len(w) for w in words)
    if doc.headings:
        doc.headings[-1].words += len(words)
    else:
        doc.intro_words += len(words)
    return sentence


def _end(doc: Document, sentence: Sentence | None) -> None:
    if sentence is not None and sentence.words:
        doc.sentences.append(sentence)
    return None


def _section_of(title: str) -> str:
    words = " " + " ".join(WORD.findall(title.lower())) + " "
    for section, keywords in SECTIONS.items():
        if any(f" {keyword} " in words for keyword in keywords):
            return section
    return ""


def _length(docs: list[Document], findings: Findings) -> None:
    words = sum(d.words for d in docs)
    if words < TARGET_WORDS:
        penalty = WEIGHTS["length"] * (1 - words / TARGET_WORDS)
        message = f"The documentation has {words} words."
        if words < MIN_WORDS_FOR_READABILITY:  # too little text to earn the readability part either
            penalty += WEIGHTS["readability"]
            message = f"The documentation has {words} words, too few to judge how readable it is."
        findings.add("length.short", WARNING, message,
                     f"Aim for at least {TARGET_WORDS} words: what the code does, how to use it, and an example.",
                     penalty=penalty)
    else:
        findings.praise(f"The documentation is substantial ({words} words).", topic="length")


def _sections(docs: list[Document], findings: Findings) -> None:
    found: dict[str, tuple[str, Heading]] = {}
    for doc in docs:
        for heading in doc.headings:
            section = _section_of(heading.title)
            if section and (section not in found or heading.words > found[section][1].words):
                found[section] = (doc.name, heading)
    if "overview" not in found:
        _opening_paragraph(docs, found)
    for section in SECTIONS:
        if section not in found:
            _missing_section(section, docs, findings)
            continue
        name, heading = found[section]
        if heading.words < MIN_SECTION_WORDS and not (section == "examples" and _has_code(docs)):
            findings.add("sections.short", WARNING,
                         f"The {SECTION_TITLES[section]} section has only {heading.words} words.",
                         SECTION_SUGGESTIONS[section], file=name, line=heading.line,
                         penalty=WEIGHTS["section"] / 2)
    if len(found) == len(SECTIONS):
        findings.praise("The documentation covers overview, usage and examples.", topic="sections")


def _missing_section(section: str, docs: list[Document], findings: Findings) -> None:
    if section != "examples":
        findings.add("sections.missing", WARNING, f"The documentation has no {SECTION_TITLES[section]} section.",
                     SECTION_SUGGESTIONS[section], penalty=WEIGHTS["section"])
    elif _has_code(docs):
        findings.add("examples.no-section", WARNING,
                     "The documentation has code, but no Examples section that introduces it.",
                     "Put the code under an Examples heading and say what each example shows.",
                     penalty=WEIGHTS["section"])
    else:
        findings.add("examples.no-section", WARNING, "The documentation has no Examples section.",
                     SECTION_SUGGESTIONS[section], penalty=WEIGHTS["section"])


def _opening_paragraph(docs: list[Document], found: dict[str, tuple[str, Heading]]) -> None:
    """Text before the first heading, or under a leading title heading that
    names no section, is an overview when it says enough."""
    for doc in docs:
        opening = Heading(1, "introduction", doc.intro_words)
        if doc.headings and not doc.intro_words and not _section_of(doc.headings[0].title):
            opening = doc.headings[0]
        if opening.words >= MIN_SECTION_WORDS:
            found["overview"] = (doc.name, opening)
            return


def _has_code(docs: list[Document]) -> bool:
    return any(d.code_blocks for d in docs)


def _examples(docs: list[Document], findings: Findings) -> None:
    if _has_code(docs):
        findings.praise("The documentation shows code examples.", topic="examples")
        return
    findings.add("examples.no-code", WARNING, "The documentation contains no code example.",
                 "Add a fenced code block (```python ... ```) with a call and the result it gives.",
                 penalty=WEIGHTS["examples"])


def _references(docs: list[Document], ws: Workspace, findings: Findings) -> None:
    names = sorted({name for source in ws.python if source.tree is not None for name in defined_names(source.tree)})
    if not names:
        return
    mentioned = _identifiers(d.prose for d in docs) | _identifiers(t.text for t in ws.docs)
    missing = [name for name in names if name not in mentioned]
    penalty = WEIGHTS["references"] * len(missing) / len(names)
    if len(missing) == len(names):
        findings.add("references.none", WARNING,
                     f"The documentation mentions none of the code's functions or classes ({_listing(names)}).",
                     "Refer to each public function by name and say what it does.", penalty=penalty)
    elif missing:
        findings.add("references.partial", WARNING, f"The documentation does not mention {_listing(missing)}.",
                     "Describe every public function or class, or make the undocumented ones private (_name).",
                     penalty=penalty)
    else:
        findings.praise("The documentation refers to every public function and class.", topic="references")


def _identifiers(texts) -> set[str]:
    """Every whole word of the texts that does not follow a dot (``f`` in
    "call f()" but not in "obj.f"), in one pass: a search per defined name
    cost thousands of passes over a long text."""
    found = set()
    for text in texts:
        for match in IDENTIFIER.finditer(text):
            start = match.start()
            if not start or text[start - 1] != ".":
                found.add(match.group())
    return found


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _readability(docs: list[Document], findings: Findings) -> None:
    if sum(d.words for d in docs) < MIN_WORDS_FOR_READABILITY:
        return  # _length charged it: too short to judge
    for doc in docs:
        if doc.words < MIN_WORDS_FOR_READABILITY:
            continue
        grade = automated_readability_index(doc)
        if grade > HARD_GRADE:
            findings.add("readability.hard", WARNING,
                         f"{place_label(doc.name)} is hard to read (Automated Readability Index "
                         f"{grade:.1f}).",
                         "Use shorter sentences and plainer words; one idea per sentence.",
                         file=doc.name, line=doc.sentences[0].line if doc.sentences else 1,
                         penalty=WEIGHTS["readability"], cap=WEIGHTS["readability"])
        for sentence in doc.sentences:
            if sentence.words > LONG_SENTENCE_WORDS:
                findings.add("readability.long-sentence", INFO, f"A sentence of {sentence.words} words.",
                             "Split it into two or three sentences.", file=doc.name, line=sentence.line)
    findings.praise("The documentation is easy to read.", topic="readability.hard")


def automated_readability_index(doc: Document) -> float:
    sentences = max(len(doc.sentences), 1)
    return round(4.71 * doc.letters / doc.words + 0.5 * doc.words / sentences - 21.43, 1)
