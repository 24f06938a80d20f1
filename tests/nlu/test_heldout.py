"""Intent accuracy on the held-out set (tests/nlu/heldout.yml), parsed by the running Rasa server.
The held-out set shares no sentence with data/nlu (checked in tests/nlu/test_training_data.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import requests
from rasa.shared.nlu.training_data.loading import load_data

HELDOUT = Path(__file__).resolve().parent / "heldout.yml"
MIN_INTENT_ACCURACY = 0.93


def heldout_examples() -> list[tuple[str, str]]:
    data = load_data(str(HELDOUT))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


@pytest.mark.rasa
def test_intent_accuracy_on_heldout_set(rasa_stack, capsys):
    examples = heldout_examples()
    assert len(examples) >= 300
    misses: list[tuple[str, str, str]] = []
    for text, expected in examples:
        parsed = requests.post(
            f"{rasa_stack['url']}/model/parse", params=rasa_stack["api"], json={"text": text}, timeout=30
        ).json()
        predicted = parsed["intent"]["name"]
        if predicted != expected:
            misses.append((text, expected, predicted))
    accuracy = 1 - len(misses) / len(examples)
    with capsys.disabled():
        print(f"\nheld-out intent accuracy: {accuracy:.3f} on {len(examples)} messages")
        for (expected, predicted), n in Counter((e, p) for _, e, p in misses).most_common(8):
            print(f"  {n} x {expected} -> {predicted}")
    assert accuracy >= MIN_INTENT_ACCURACY, misses[:20]
