"""The table of skills is what the assistant does: domain.yml, the rules, the test stories,
config.yml and the Rasa actions must all agree with it, name for name."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from bot.assistant import intents
from bot.assistant.skills import HANDLERS, SKILLS, STEPS
from bot.assistant.turn import MAIN_MENU

ROOT = Path(__file__).resolve().parents[2]
SKILL_INTENTS = {skill.intent for skill in SKILLS}
SKILL_ACTIONS = {skill.action for skill in SKILLS}


def _yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def _steps(document: dict, key: str) -> list[list[dict]]:
    return [entry["steps"] for entry in document.get(key) or []]


def test_every_intent_in_the_domain_has_a_skill_and_no_skill_lacks_one():
    domain_intents = set(_yaml("domain.yml")["intents"])
    # nlu_fallback is Rasa's own intent: it is never declared in the domain.
    assert domain_intents == SKILL_INTENTS - {intents.NLU_FALLBACK}


def test_the_domain_declares_exactly_the_skills_actions():
    assert set(_yaml("domain.yml")["actions"]) == SKILL_ACTIONS


def test_each_rule_answers_its_intent_with_that_skills_action_and_every_skill_has_a_rule():
    covered = set()
    for steps in _steps(_yaml("data/rules/rules.yml"), "rules"):
        assert len(steps) == 2, steps
        intent, action = steps[0]["intent"], steps[1]["action"]
        assert action == intents.action_for(intent), steps
        covered.add(intent)
    assert covered == SKILL_INTENTS


def test_test_stories_use_only_skill_intents_and_each_intent_is_answered_by_its_action():
    for steps in _steps(_yaml("tests/stories/test_stories.yml"), "stories"):
        for step, following in zip(steps, steps[1:], strict=False):
            if "intent" in step:
                assert step["intent"] in SKILL_INTENTS, step
                assert following == {"action": intents.action_for(step["intent"])}, steps


def test_low_confidence_in_rasa_core_runs_the_fallback_skill():
    policy = next(p for p in _yaml("config.yml")["policies"] if p["name"] == "RulePolicy")
    assert policy["core_fallback_action_name"] == intents.action_for(intents.NLU_FALLBACK)


def test_the_action_server_registers_one_action_per_skill():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == SKILL_ACTIONS


def test_nlu_training_data_uses_only_skill_intents():
    found = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for item in _yaml(str(path.relative_to(ROOT))).get("nlu") or []:
            if "intent" in item:
                found.add(item["intent"])
    assert found == SKILL_INTENTS - intents.NOT_FROM_NLU


def test_menu_options_and_steps_name_handlers_that_exist():
    assert all(option.key in HANDLERS for option in MAIN_MENU)
    assert not set(STEPS) & SKILL_INTENTS  # a step never shadows a skill
    assert len({skill.intent for skill in SKILLS}) == len(SKILLS)
