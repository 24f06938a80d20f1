"""The gateway's spool (production mode): while the database cannot store a farmer's message, the
gateway writes it to a file on its own disk (appended and fsynced before Twilio gets its answer)
and answers 200, so nothing depends on Twilio retrying. When the database answers again, the
spool is taken in the order it was written, through the same intake as any webhook (stored with
the farmer's next sequence number, published); the unique MessageSid makes a line taken twice (a
crash between storing it and rewriting the file) harmless.

While the spool holds anything, new messages are appended behind it rather than stored at once,
so a farmer's later message never overtakes an earlier one spooled by this gateway. The spool is
taken a few lines at a time, so webhooks are never held long behind it. Over ``max_bytes`` (or
when the disk refuses) a message is refused with 503, as without a spool.

Settings: GATEWAY_SPOOL (a file; default var/gateway-spool-<port>.jsonl), GATEWAY_SPOOL_MAX_BYTES
[50000000]. A gateway's machine that dies with messages in its spool delivers them when it is
started again on the same disk (docs: README, *Production*).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import VAR_DIR
from bot.logs import failure
from bot.messaging.inbound import Inbound
from bot.messaging.intake import Intake, Taken

logger = logging.getLogger(__name__)

CHUNK = 20  # lines taken per hold of the lock


@dataclass(frozen=True)
class SpoolSettings:
    path: Path
    max_bytes: int = 50_000_000

    @classmethod
    def from_env(cls, port: int, environ: Mapping[str, str] | None = None) -> SpoolSettings:
        env = os.environ if environ is None else environ
        path = env.get("GATEWAY_SPOOL", "").strip() or str(VAR_DIR / f"gateway-spool-{port}.jsonl")
        return cls(Path(path), int(env.get("GATEWAY_SPOOL_MAX_BYTES", "").strip() or cls.max_bytes))


class Spool:
    def __init__(
        self, path: Path, intake: Intake, max_bytes: int = SpoolSettings.max_bytes, every: float = 1.0
    ):
        self.path, self.intake, self.max_bytes, self.every = path, intake, max_bytes, every
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def waiting(self) -> int:
        """How many messages wait in the spool."""
        try:
            with self.path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            return 0

    def writable(self) -> bool:
        """Whether a message could be spooled now (room left, and a folder it can write in)."""
        try:
            size = self.path.stat().st_size if self.path.exists() else 0
        except OSError:
            return False
        folder = self.path.parent
        return (
            size < self.max_bytes
            and (folder.exists() or folder.parent.exists())
            and os.access(folder if folder.exists() else folder.parent, os.W_OK)
        )

    def _has_lines(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    async def take(self, message: Inbound) -> Taken:
        """A checked webhook's message: stored (and published) at once while nothing waits in the
        spool and the database answers; otherwise spooled behind what waits. Only spooling takes
        the lock (it waits for a drain's chunk to end), so webhooks are stored side by side as
        before; one that finds lines in the spool goes behind them."""
        if not self._has_lines():
            taken = await self.intake.take(message)
            if taken is not Taken.UNAVAILABLE:
                return taken
        async with self._lock:
            return self._append(message)

    def _append(self, message: Inbound) -> Taken:
        line = (message.to_json() + "\n").encode("utf-8")
        try:
            size = self.path.stat().st_size if self.path.exists() else 0
            if size + len(line) > self.max_bytes:
                logger.error("spool full (%d bytes): inbound %s refused with 503", size, message.message_sid)
                return Taken.UNAVAILABLE
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            logger.error(
                "spool unavailable (%s): inbound %s refused with 503", failure(exc), message.message_sid
            )
            return Taken.UNAVAILABLE
        logger.warning("inbound %s spooled: the database is unavailable", message.message_sid)
        return Taken.SPOOLED

    async def drain_once(self) -> int:
        """Takes the spool's first lines in order until the database refuses one; returns how
        many were taken."""
        async with self._lock:
            try:
                lines = self.path.read_bytes().splitlines(keepends=True)
            except FileNotFoundError:
                return 0
            taken = 0
            for line in lines[:CHUNK]:
                if line.strip():
                    try:
                        message = Inbound.from_json(line.decode("utf-8"))
                    except (ValueError, TypeError) as exc:  # a torn last line: kept aside, logged
                        logger.error("spool line unreadable (%s): set aside", failure(exc))
                        self._set_aside(line)
                    else:
                        if await self.intake.take(message) is Taken.UNAVAILABLE:
                            break
                taken += 1
            if taken:
                self._rewrite(lines[taken:])
        if taken:
            logger.info("%d spooled inbound messages taken", taken)
        return taken

    def _rewrite(self, rest: list[bytes]) -> None:
        """The lines still waiting, replacing the file at once (a crash leaves the old or the new)."""
        spare = self.path.with_suffix(self.path.suffix + ".new")
        with spare.open("wb") as handle:
            handle.writelines(rest)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(spare, self.path)

    def _set_aside(self, line: bytes) -> None:
        with self.path.with_suffix(self.path.suffix + ".unreadable").open("ab") as handle:
            handle.write(line)

    async def run(self) -> None:
        while True:
            try:
                while self._has_lines() and await self.drain_once():
                    await asyncio.sleep(0)  # webhooks go between chunks
            except Exception as exc:  # never let the drain die: the spool waits for the next round
                logger.error("spool drain failed: %s", failure(exc))
            await asyncio.sleep(self.every)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
