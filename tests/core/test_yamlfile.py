from pathlib import Path

import pytest

from bot.core.errors import YamlFileError
from bot.core.yamlfile import read_yaml


def test_lines_of_keys_and_items(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("topics:\n  tax_code:\n    answer:\n      - one\n      - two\n")
    document = read_yaml(path)
    assert document.line_of(("topics", "tax_code", "answer", 1)) == 5
    assert document.line_of(("topics", "tax_code", "missing_key")) == 2


def test_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("a: 1\nb: [unclosed\nc: 3\n")
    with pytest.raises(YamlFileError) as error:
        read_yaml(path)
    assert error.value.line >= 2
    assert "not valid YAML" in error.value.message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(YamlFileError) as error:
        read_yaml(path)
    assert error.value.line == 3
