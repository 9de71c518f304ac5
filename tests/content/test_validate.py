"""Every validation error class, each shown by its own broken fixture, in the words a marketer reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import ContentError
from bot.content.loader import load_content
from tests.content.conftest import BROKEN, DOMAIN, FIXTURES, VALID, MakeContent

PHASE_LIST = "need, orientation, consideration, decision, purchase, delivery, use, aftercare"
RETRAIN = "NLU examples in data/nlu/ and then `rasa train`"
SAVINGS = "phases[1].intents.savings"

CASES: dict[str, list[str]] = {
    # the schema
    "unknown_field": [f"consumer.yml:20: {SAVINGS}: unknown field 'repy' (did you mean 'replies'?)"],
    "wrong_type": [
        "common.yml:54: rules.nps.cooldown_days: should be a whole number, but is text ('dertig')",
        "personas.yml:8: personas[0].recognise.keywords: should be a list (one '- ' item per line), "
        "but is text ('senior')",
    ],
    "missing_field": ["personas.yml:2: personas[0]: missing required field 'tone'"],
    "invalid_choice": [
        f"consumer.yml:27: {SAVINGS}.replies[2].channel: 'email' is not allowed; choose one of: web, "
        "whatsapp, sms"
    ],
    "invalid_id": [
        "common.yml:47: products[2].id: 'Thuis Batterij' is not a valid id: use lowercase letters, digits, "
        "'_' and '-' only, no spaces"
    ],
    # the eight phases
    "missing_phase": [
        "business.yml:5: journey.phases: intent 'performance' has no replies in this journey "
        "(journey 'consumer' has it in 'use')",
        "business.yml:5: journey.phases: phase 'use' is missing; every journey has these eight phases: "
        f"{PHASE_LIST}",
    ],
    "phase_order": [
        "consumer.yml:16: phases[1].id: phase 'consideration' is out of order (expected 'orientation' here); "
        f"the order is: {PHASE_LIST}"
    ],
    "unknown_phase": [
        "consumer.yml:5: journey.phases: phase 'need' is missing; every journey has these eight phases: "
        f"{PHASE_LIST}",
        "consumer.yml:6: phases[0].id: unknown phase 'nead' (did you mean 'need'?); the phases are: "
        f"{PHASE_LIST}",
    ],
    "duplicate_phase": [
        "business.yml:5: journey.phases: phase 'use' is missing; every journey has these eight phases: "
        f"{PHASE_LIST}",
        "business.yml:59: phases[6].id: phase 'delivery' appears twice (also phases[5])",
    ],
    # duplicate ids
    "duplicate_journey": [
        "consumer.yml:2: journey.id: journey id 'consumer' is also used in business.yml",
        "personas.yml:13: personas[1].journey: journey 'business' does not exist; the journeys are: consumer",
        "personas.yml:20: personas[2].journey: journey 'business' does not exist; the journeys are: consumer",
    ],
    "duplicate_persona": [
        "personas.yml:16: personas[2].id: persona id 'senior' is used twice (first on line 2)"
    ],
    "duplicate_product": [
        "common.yml:47: products[2].id: product id 'warmtepomp' is used twice (first on line 44)"
    ],
    "duplicate_intent": [
        "consumer.yml:56: phases[2].intents.suitability: intent 'suitability' "
        "appears "
        "twice: also in phase 'orientation' of this journey"
    ],
    "duplicate_key": [
        "consumer.yml:52: 'savings' appears twice in the same block; each name may appear once"
    ],
    # against domain.yml
    "unknown_intent": [
        "business.yml:24: phases[1].intents: intent 'suitability' has no replies in this journey "
        "(journey 'consumer' has it in 'orientation')",
        "business.yml:28: phases[1].intents.suitabilty_roof: domain.yml does not know intent "
        "'suitabilty_roof' "
        "(did you mean 'suitability'?); a new intent must be added to domain.yml and needs "
        f"{RETRAIN}",
        f"consumer.yml:48: {SAVINGS}.buttons[3].payload: '/suitabilty' is not an intent in "
        "domain.yml "
        "(did you mean 'suitability'?)",
    ],
    "missing_intent": [
        "consumer.yml:19: phases[1].intents: intent 'suitability' has no replies in this journey "
        "(journey 'business' has it in 'orientation')"
    ],
    "intent_in_no_journey": [
        f"{name}.yml:5: journey.phases: domain.yml lists intent 'suitability' but no journey has "
        f"replies for it; add it to a phase in every journey (a new intent also needs {RETRAIN})"
        for name in ("business", "consumer")
    ],
    "phase_mismatch": [
        "business.yml:32: phases[2].intents.suitability: intent 'suitability' is in "
        "phase 'consideration' here but in phase 'orientation' in journey 'consumer'; an intent belongs to "
        "the "
        "same phase in every journey"
    ],
    "general_intent_in_journey": [
        "business.yml:49: phases[4].intents.greet: 'greet' is a general intent; its replies belong in "
        "common.yml "
        "under general"
    ],
    "missing_general": ["common.yml:1: general: general intent 'give_score' from domain.yml has no replies"],
    "missing_message": ["common.yml:1: general: message 'nps_retry' is missing; the assistant needs it"],
    "unknown_general": ["common.yml:11: general.welcome: unknown general intent or message 'welcome'"],
    # references between files
    "unknown_persona": [
        f"consumer.yml:25: {SAVINGS}.replies[1].persona: persona 'seniro' is not in personas.yml "
        "(did you mean 'senior'?), so this variant can never be chosen"
    ],
    "unknown_product": [
        f"consumer.yml:43: {SAVINGS}.buttons[1].product: product 'warmtepompen' is not defined in common.yml "
        "(did you mean 'warmtepomp'?)"
    ],
    "unknown_journey": [
        "personas.yml:20: personas[2].journey: journey 'bussiness' does not exist (did you mean "
        "'business'?); "
        "the journeys are: business, consumer"
    ],
    "no_default_journey": [
        "business.yml:2: journey.id: there is no 'consumer' journey; it is the default for everyone",
        "personas.yml:6: personas[0].journey: journey 'consumer' does not exist; "
        "the journeys are: business, particulier",
    ],
    "unknown_rule_phase": [
        f"common.yml:51: rules.sales_phases[4]: unknown phase 'aankoop'; the phases are: {PHASE_LIST}"
    ],
    # content rules
    "phase_without_reply": [
        "consumer.yml:83: phases[6].intents: phase 'use' has no intent with a reply, so it can never be "
        "reached",
        "consumer.yml:85: phases[6].intents.performance.replies: no default reply: add one without "
        "conditions (phase, subject, product, persona, address, channel) so every visitor gets an answer",
    ],
    "no_default_variant": [
        "consumer.yml:64: phases[3].intents.quote_request.replies: no default reply: add one "
        "without conditions (phase, subject, product, persona, address, channel) so every visitor gets an answer"
    ],
    "too_many_buttons": [
        "consumer.yml:13: phases[0].intents.energy_costs.buttons: 11 buttons; at most 10 fit in one "
        "WhatsApp list message"
    ],
    "text_too_long": [
        "business.yml:51: phases[4].intents.order.replies[0].text[0]: text is 4140 characters "
        "long; "
        "the maximum is 4096"
    ],
    "empty_phrasing": [
        "business.yml:51: phases[4].intents.order.replies[0].text[1]: empty phrasing: write "
        "something "
        "or remove the line",
        "common.yml:10: general.goodbye.replies[0].text[1]: empty phrasing: write something or remove the "
        "line",
    ],
    # files that are not readable YAML content
    "yaml_syntax": [
        "personas.yml:19: YAML syntax error: mapping values are not allowed here (check indentation, colons "
        "and "
        "quotes here or on the line above)"
    ],
    "tab_indent": ["personas.yml:5: a tab is used for indentation; YAML only allows spaces"],
    "not_utf8": ["personas.yml:4: the file is not saved as UTF-8 (odd byte 0xe9); save it as UTF-8"],
    "empty_file": ["business.yml:1: the file is empty; it should start with 'journey:'"],
    "not_a_mapping": ["personas.yml:1: the file should start with 'personas:', but it holds a list"],
}


def errors_in(folder: Path, domain: Path | None = DOMAIN) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(folder, domain)
    return [str(issue).replace(f"{folder.as_posix()}/", "") for issue in caught.value.errors]


def test_every_broken_fixture_has_a_case() -> None:
    assert set(CASES) == {path.name for path in BROKEN.iterdir()}


@pytest.mark.parametrize(("case", "expected"), CASES.items(), ids=list(CASES))
def test_broken_fixture_reports_exactly_its_errors(
    make_content: MakeContent, case: str, expected: list[str]
) -> None:
    assert errors_in(make_content(case)) == expected


def test_valid_set_loads_without_warnings() -> None:
    assert not load_content(VALID, DOMAIN).warnings


def test_a_long_title_is_an_error_where_it_can_reach_whatsapp(make_content: MakeContent) -> None:
    folder = make_content(None)
    consumer = folder / "consumer.yml"
    consumer.write_text(
        consumer.read_text(encoding="utf-8").replace("Dak geschikt?", "Is mijn dak geschikt?")
    )
    assert any("WhatsApp refuses titles over 20" in line for line in errors_in(folder))


def test_raw_html_in_a_text_is_an_error(make_content: MakeContent) -> None:
    folder = make_content(None)
    common = folder / "common.yml"
    common.write_text(
        common.read_text(encoding="utf-8").replace("Ik kan alleen tekst lezen.", "<b>Alleen</b> tekst.")
    )
    assert any("raw HTML in a text" in line for line in errors_in(folder))


def test_oversized_file_is_refused_before_parsing(make_content: MakeContent) -> None:
    folder = make_content(None)
    # Unparseable on purpose: a size message proves the parser never ran.
    (folder / "personas.yml").write_text("[" * (1024 * 1024 + 1), encoding="utf-8")
    assert errors_in(folder) == ["personas.yml: the file is 1.0 MB; the limit is 1 MB, split the content up"]


def test_missing_files_and_folder(make_content: MakeContent, tmp_path: Path) -> None:
    folder = make_content(None)
    (folder / "common.yml").unlink()
    assert errors_in(folder) == ["common.yml: the file is missing"]
    missing = tmp_path / "nowhere"
    assert errors_in(missing) == [f"{missing.as_posix()}: the journeys folder does not exist"]


def test_without_a_domain_the_intent_checks_are_skipped(make_content: MakeContent) -> None:
    book = load_content(make_content("unknown_intent"), None).book
    assert book.phase_of("suitabilty_roof") == "orientation"


def test_a_broken_domain_file_is_reported(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text("intents: [greet\n", encoding="utf-8")
    messages = errors_in(VALID, domain)
    assert len(messages) == 1 and messages[0].startswith(f"{domain.as_posix()}:2: YAML syntax error")


def test_warnings_do_not_stop_loading(make_content: MakeContent) -> None:
    folder = make_content(None)
    for path in (FIXTURES / "warnings").iterdir():
        shutil.copyfile(path, folder / path.name)
    loaded = load_content(folder, DOMAIN)
    assert sorted(str(w).replace(f"{folder.as_posix()}/", "") for w in loaded.warnings) == [
        "consumer.yml:16: warning: phases[0].intents.energy_costs.buttons[0].product: "
        "'product' only hides sales buttons; add 'sales: true' or remove 'product'",
        "consumer.yml:56: warning: phases[1].intents.suitability.replies[1].buttons[0].title: button title "
        "'Is mijn dak geschikt?' is 21 characters; WhatsApp would cut it off after 20",
        "extra.yaml: warning: ignored: content files must end in .yml",
        "personas.yml:22: warning: personas[2].recognise.keywords[3]: "
        "keyword 'Seniór' also recognises persona 'senior'; the first persona wins",
    ]
    assert loaded.book.detect_persona("ik ben senior") == "senior"
