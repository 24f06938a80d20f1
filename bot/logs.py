"""What a log line may say about a failure.

A log line at INFO or above never carries a phone number, a message body or an amount. Phone
numbers are masked (``bot.phones.mask_phone``); an exception's message may quote any of them (a
library's ``repr``, a parse error, PostgreSQL's "Failing row contains (…)"), so code that logs a
failure writes what ``failure`` returns at ERROR, and the whole traceback only at DEBUG:

    except Exception as exc:
        logger.error("turn for %s failed: %s", sid, failure(exc))
        logger.debug("turn for %s failed", sid, exc_info=exc)
"""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

from bot.config import PROJECT_ROOT

_OURS = (PROJECT_ROOT / "bot", PROJECT_ROOT / "actions")


def _ours(filename: str) -> bool:
    return any(Path(filename).is_relative_to(folder) for folder in _OURS)


def failure(exc: BaseException) -> str:
    """The exception's type and where it was raised (the innermost line of our own code, and the
    library's line when it was raised in one), never its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    ours = [frame for frame in frames if _ours(frame.filename)]
    where = ours[-1] if ours else frames[-1]
    text = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno} in {where.name}"
    if where is not frames[-1]:
        text += f" (raised in {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return text


def configure_process(name: str) -> None:
    """A production process's log lines: LOG_LEVEL (INFO), each line naming the process, so one
    message's MessageSid can be followed from the gateway to the worker and the sender."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format=f"%(asctime)s %(levelname)s {name} %(name)s %(message)s",
    )
