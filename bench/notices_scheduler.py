"""Production's notice scheduler on a clock `make bench-notices` controls, run as its own process
(so the bench's SIGKILL is a real one):

    python -m bench.notices_scheduler START REAL_START

START is an ISO time (the controlled clock's start) and REAL_START the epoch second it stands
for: the clock reads START plus the real seconds since REAL_START, in every process the bench
starts, so a scheduler started again goes on where the killed one was. Everything else is
``python -m bot.messaging.notice_loop`` itself: its ``main()`` runs unchanged, with its
NoticeLoop given this clock (main() builds NoticeLoop with the default clock, the real one, and
takes no other).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.messaging import notice_loop  # noqa: E402


def controlled_clock(start: datetime, real_start: float) -> Callable[[], datetime]:
    def now() -> datetime:
        return start + timedelta(seconds=time.time() - real_start)

    return now


def main(argv: list[str]) -> int:
    clock = controlled_clock(datetime.fromisoformat(argv[0]), float(argv[1]))

    class ControlledNoticeLoop(notice_loop.NoticeLoop):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["clock"] = clock
            super().__init__(*args, **kwargs)

    notice_loop.NoticeLoop = ControlledNoticeLoop  # type: ignore[misc]
    return notice_loop.main()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
