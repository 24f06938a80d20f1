"""The retention purge: data kept no longer than its purpose needs (LFPDPPP; README, "Privacy:
retention").

Each kind of data (vocabulary.RETENTION_KINDS) has its period in days in bot/config.py. The purge
deletes, or empties, what is older than its period, in the program's database and in Rasa's
tracker store, and reports how many rows each step changed:

- transcripts: Rasa's events, the console's copy of them, inbound and outbound messages (with
  their delivery statuses), the notices each phone was told, officers' replies, corrections, review notes, and the last message
  copied into a request for a person;
- raw_params: the webhook parameters Twilio sent with each message, and the WhatsApp profile name
  and id (also in the tracker's metadata);
- media: the links to photos, audio and video (in the messages, the console's copy, the tracker);
- audit: the console's audit and sign-in log, and the log of payment data shown in chat;
- replies: the replies kept to answer a redelivered message the same way (handled_messages).

Farmers, invoices, deliveries, enrolments, consents, BAJA/ALTA history and phone releases are
never purged. What is gone is not found again, so a second run changes nothing; ``dry_run``
counts without changing. Log lines carry counts only.

This module spans the records, the messaging tables and the console's tables, so it sits in a
layer of its own above the console (tests/test_layers.py); the CLI runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.console.config import ConsoleSettings
from bot.console.queries import retention as console
from bot.messaging import retention as messaging
from bot.records import retention as records
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)

TRACKER_PROFILE_KEYS = ("profile_name", "wa_id")
TRACKER_MEDIA_KEYS = ("media",)

Step = Callable[..., int]


@dataclass(frozen=True)
class Count:
    kind: str  # a code of RETENTION_KINDS
    what: str  # the table (and columns) the step changed
    rows: int


@dataclass
class PurgeReport:
    dry_run: bool
    cutoffs: dict[str, datetime]  # by kind: data older than this is purged
    counts: list[Count] = field(default_factory=list)

    def total(self, kind: str | None = None) -> int:
        return sum(c.rows for c in self.counts if kind is None or c.kind == kind)


# Each step: the kind of data, what it changes, and the function (session, before, dry_run=...).
PROGRAM_STEPS: list[tuple[str, str, Step]] = [
    ("transcripts", "inbound_messages", messaging.inbound_messages),
    ("transcripts", "outbound_messages", messaging.outbound_messages),
    ("transcripts", "message_status_events", messaging.status_events),
    ("transcripts", "console_messages", console.messages),
    ("transcripts", "console_replies", console.replies),
    ("transcripts", "console_corrections", console.corrections),
    ("transcripts", "console_reviews", console.reviews),
    ("transcripts", "human_requests.last_message", records.request_messages),
    ("transcripts", "notices", records.sent_notices),
    ("raw_params", "inbound_messages.raw_params", messaging.raw_params),
    ("media", "inbound_messages.media_json", messaging.media_references),
    ("media", "console_messages.media_json", console.message_media),
    ("audit", "console_audit", console.audit_entries),
    ("audit", "console_logins", console.sign_ins),
    ("audit", "payment_access_log", records.payment_views),
    ("replies", "handled_messages", records.handled_replies),
]
TRACKER_STEPS: list[tuple[str, str, Step]] = [
    ("transcripts", "events (Rasa)", console.tracker_events),
    (
        "raw_params",
        "events (Rasa): profile name",
        partial(console.tracker_metadata, keys=TRACKER_PROFILE_KEYS),
    ),
    ("media", "events (Rasa): media", partial(console.tracker_metadata, keys=TRACKER_MEDIA_KEYS)),
]
# Kinds whose steps empty columns of messages kept whole: they look only at messages younger than
# the transcript period (older ones go whole), so a dry run counts what a real run changes.
WITHIN_TRANSCRIPTS = ("raw_params", "media")


def purge(
    session: Session,
    tracker: Session | None,
    config: Settings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Purges (or with ``dry_run`` counts) what is past its period in the program's database and,
    when given, in Rasa's tracker store. Both sessions are the caller's."""
    now = now or utcnow()
    cutoffs = {kind: now - timedelta(days=days) for kind, days in records.periods(config).items()}
    report = PurgeReport(dry_run=dry_run, cutoffs=cutoffs)
    steps = [(session, step) for step in PROGRAM_STEPS]
    if tracker is not None:
        steps += [(tracker, step) for step in TRACKER_STEPS]
    for target, (kind, what, run) in steps:
        since = {"since": cutoffs["transcripts"]} if kind in WITHIN_TRANSCRIPTS else {}
        rows = run(target, cutoffs[kind], dry_run=dry_run, **since)
        report.counts.append(Count(kind, what, rows))
        logger.info("purge%s: %s %s: %d row(s)", " (dry run)" if dry_run else "", kind, what, rows)
    return report


def tracker_url() -> str | None:
    """Rasa's tracker store the console reads (TRACKER_DATABASE_URL); None when it is a SQLite
    file that does not exist yet (nothing to purge, and no empty file is made)."""
    url = ConsoleSettings.from_env().tracker_database_url
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and not Path(parsed.database or "").exists():
        return None
    return url
