"""`journey validate` and `journey schema` as a marketer or CI runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from bot.cli import main as journey_main
from bot.content.cli import main
from bot.content.repository import PROJECT_ROOT
from bot.content.schema import content_schema, schema_text
from tests.content.conftest import BROKEN, DOMAIN, VALID, MakeContent


def test_validate_valid_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--dir", str(VALID), "--domain", str(DOMAIN)]) == 0
    assert capsys.readouterr().out.splitlines() == ["OK: 2 journeys, 8 phases each, 3 personas"]


def test_validate_broken_set(capsys: pytest.CaptureFixture[str], make_content: MakeContent) -> None:
    folder = make_content("unknown_field")
    assert main(["validate", "--dir", str(folder), "--domain", str(DOMAIN)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{folder.as_posix()}/consumer.yml:20: phases[1].intents.savings: "
        "unknown field 'repy' (did you mean 'replies'?)",
        "FAILED: 1 error, 0 warnings",
    ]


def test_validate_without_domain(capsys: pytest.CaptureFixture[str], make_content: MakeContent) -> None:
    folder = make_content("unknown_intent")
    assert main(["validate", "--dir", str(folder), "--domain", str(DOMAIN)]) == 1
    assert main(["validate", "--dir", str(folder), "--no-domain"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "OK: 2 journeys, 8 phases each, 3 personas"


def test_the_journey_command_registers_validate(make_content: MakeContent) -> None:
    assert journey_main(["validate", "--dir", str(VALID), "--domain", str(DOMAIN)]) == 0
    assert (
        journey_main(["validate", "--dir", str(make_content("no_default_variant")), "--domain", str(DOMAIN)])
        == 1
    )


def test_validate_as_a_process_prints_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "validate", "--dir", str(BROKEN / "yaml_syntax")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "common.yml: the file is missing" in result.stdout
    assert "personas.yml:19: YAML syntax error: mapping values are not allowed here" in result.stdout


def test_schema_command_writes_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schema.json"
    assert main(["schema", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == schema_text()
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1]) == content_schema()


def test_committed_schema_is_up_to_date() -> None:
    committed = PROJECT_ROOT / "journeys" / "schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text(), (
        "run: journey schema --output journeys/schema.json"
    )


def _yaml(path: Path) -> object:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["consumer.yml", "business.yml", "common.yml", "personas.yml"])
def test_schema_accepts_the_valid_files(name: str) -> None:
    jsonschema.validate(_yaml(VALID / name), content_schema())


@pytest.mark.parametrize(
    ("case", "name"), [("unknown_field", "consumer.yml"), ("invalid_choice", "consumer.yml")]
)
def test_schema_rejects_what_the_model_rejects(case: str, name: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_yaml(BROKEN / case / name), content_schema())
