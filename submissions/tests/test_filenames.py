import pytest

from submissions.filenames import MAX_NAME_BYTES, neutralise_file_name


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\evil.py", "evil.py"),
        ("/abs/path/solution.py", "solution.py"),
        ("..", "file"),
        ("notes/", "file"),
    ],
)
def test_paths_are_cut_to_their_last_component_and_flagged(raw, shown):
    name = neutralise_file_name(raw)
    assert name.name == shown
    assert name.had_path


def test_right_to_left_override_cannot_disguise_an_extension():
    # Displayed raw, this reads "reportexe.py"; the bytes say it ends in ".exe".
    name = neutralise_file_name("report\u202eyp.exe")
    assert name.name == "reportyp.exe"
    assert name.had_hidden_characters and not name.had_path


def test_control_and_invisible_characters_are_removed():
    name = neutralise_file_name("a\x00b\x1b[31mc\u200bd\u2066e\nf\r.py")
    assert name.name == "ab[31mcdef.py"
    assert name.had_hidden_characters


def test_long_names_are_cut_to_255_bytes_keeping_the_extension():
    name = neutralise_file_name("é" * 300 + ".py")
    assert len(name.name.encode()) <= MAX_NAME_BYTES
    assert name.name.endswith(".py") and name.was_truncated
    name.name.encode().decode()  # never cut inside a character


def test_ordinary_names_are_kept():
    name = neutralise_file_name("word_count v2.py")
    assert name.name == "word_count v2.py"
    assert not (name.had_path or name.had_hidden_characters or name.was_truncated)


@pytest.mark.parametrize("raw", ["", "   ", "\u202e", "..."])
def test_a_name_is_never_empty(raw):
    assert neutralise_file_name(raw).name == "file"
