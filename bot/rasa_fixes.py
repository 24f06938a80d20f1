"""What our processes change in Rasa 3.6's own code when they load it, each change with its reason.
Applied by the worker (bot/worker/rasa_turns.py) and by `make run`'s and `make chat`'s Rasa
(bot/stack.py starts ``rasa`` through this module):

    python -m bot.rasa_fixes run -m models/<name>.tar.gz ...   (``rasa``'s own arguments)

* **The action server's answer, checked with a validator built once.** Rasa checks each answer
  of the action server with ``jsonschema.validate``, which first checks Rasa's schema against
  JSON Schema's own meta-schema and builds a new validator, on every call: 15 ms of CPU a call
  on this machine against 1.4 ms with the validator built once (bench/action_check.py; py-spy
  put it at a quarter of a worker's busy samples under `make bench-load`). An answer the built
  validator finds valid is valid for ``jsonschema.validate`` too (same schema, same draft); any
  other answer goes through Rasa's own check, so it fails with Rasa's own error and message.
  Rasa's schema holds no ``$ref``, so one validator serves every thread.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

from jsonschema import validators
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction

_RASA_CHECK = RemoteAction._validate_action_result


@lru_cache(maxsize=1)
def _action_answer_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    kind = validators.validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _action_answer_validator().is_valid(result):
        return True
    return _RASA_CHECK(self, result)  # raises Rasa's ValidationError, with Rasa's message


def apply() -> None:
    """Idempotent."""
    RemoteAction._validate_action_result = _validate_action_result


def main() -> None:
    """``rasa``'s command line, on Rasa with these changes."""
    from rasa.__main__ import main as rasa_main

    apply()
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
