"""The loader keeps a line for every field so messages can point into the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.yaml_lines import FileProblem, load_yaml
from tests.content.conftest import VALID

SOURCE = """\
# comment
journey:
  id: consumer
  phases:
    - id: need

      intents:
        energy_costs:
          replies:
            - text:
                - "Eerste"
                - >-
                  Tweede, over
                  twee regels
"""


def test_lines_of_nested_fields(tmp_path: Path) -> None:
    path = tmp_path / "consumer.yml"
    path.write_text(SOURCE, encoding="utf-8")
    source = load_yaml(path, "journey")
    base = ("journey", "phases", 0, "intents", "energy_costs", "replies", 0, "text")
    assert source.line(("journey",)) == 2
    assert source.line(("journey", "id")) == 3
    assert source.line(("journey", "phases", 0)) == 5
    assert source.line(("journey", "phases", 0, "intents")) == 7
    assert source.line(base) == 10
    assert source.line((*base, 0)) == 11
    assert source.line((*base, 1)) == 12
    # A field that is not there points at its nearest parent.
    assert source.line(("journey", "phases", 0, "label")) == 5
    assert source.data["journey"]["phases"][0]["intents"]["energy_costs"]["replies"][0]["text"] == [
        "Eerste",
        "Tweede, over twee regels",
    ]
    assert type(source.data["journey"]["id"]) is str


def test_issue_hides_the_journey_prefix_only_for_deep_paths(tmp_path: Path) -> None:
    path = tmp_path / "consumer.yml"
    path.write_text(SOURCE, encoding="utf-8")
    source = load_yaml(path, "journey")
    source.hidden_prefix = ("journey",)
    deep = source.issue(("journey", "phases", 0, "intents"), "x")
    shallow = source.issue(("journey", "id"), "y")
    assert (deep.line, deep.field, shallow.field) == (7, "phases[0].intents", "journey.id")


def test_values_keep_their_yaml_types(tmp_path: Path) -> None:
    path = tmp_path / "common.yml"
    path.write_text("rules:\n  cooldown: 30\n  flag: true\n  word: yes\n  ratio: 0.5\n", encoding="utf-8")
    assert load_yaml(path, "rules").data == {
        "rules": {"cooldown": 30, "flag": True, "word": "yes", "ratio": 0.5}
    }


def test_utf8_with_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "personas.yml"
    path.write_bytes("\ufeff".encode() + (VALID / "personas.yml").read_bytes())
    assert load_yaml(path, "personas").data["personas"][0]["id"] == "senior"


def test_a_tab_inside_text_is_not_indentation(tmp_path: Path) -> None:
    path = tmp_path / "personas.yml"
    path.write_text('personas:\n  - name: "a\tb"\n', encoding="utf-8")
    assert load_yaml(path, "personas").data == {"personas": [{"name": "a\tb"}]}


def test_comment_only_file_counts_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "common.yml"
    path.write_text("# later\n\n", encoding="utf-8")
    with pytest.raises(FileProblem) as caught:
        load_yaml(path, "general")
    assert caught.value.issue.message == "the file is empty; it should start with 'general:'"
