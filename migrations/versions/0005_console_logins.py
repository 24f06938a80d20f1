"""console: every sign-in attempt (the login throttle and its audit); codes masked in the copy

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00

Besides the new table, a data step masks what farmers typed as a check code or PIN in the rows
the console copied from Rasa's tracker before this revision (console_messages) and in the
corrections made from them (console_corrections), as bot/console/tracker.py now masks every new
copy. The masking below is a frozen copy of bot/console/masking.mask_codes as of this revision
(a migration must not change when the code does). It cannot be undone.
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_CODE = re.compile(r"(?<!\d)\d(?:[ .-]?\d){3}(?!\d)")
_FOLIO = re.compile(r"\bPP[ -]?\d+", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
BATCH = 1000


def _mask_folio(folio):
    digits = sum(ch.isdigit() for ch in folio)
    seen, out = 0, []
    for ch in folio:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else "•")
        else:
            out.append(ch)
    return "".join(out)


def _mask(text):
    if not text:
        return text
    text = _FOLIO.sub(lambda m: _mask_folio(m.group()), text)
    return _CODE.sub(lambda m: _DIGIT.sub("•", m.group()), text)


def _mask_entities(entities_json):
    if not entities_json:
        return entities_json
    entities = json.loads(entities_json)
    changed = False
    for entity in entities:
        value = entity.get("value")
        if isinstance(value, (str, int)) and _mask(str(value)) != str(value):
            entity["value"], changed = _mask(str(value)), True
    return json.dumps(entities, ensure_ascii=False) if changed else entities_json


def _mask_rows(table, columns, maskers, where=None):
    """Masks the columns of every row, a batch at a time, in order of id."""
    bind = op.get_bind()
    last = 0
    while True:
        query = sa.select(table.c.id, *[table.c[c] for c in columns]).where(table.c.id > last)
        if where is not None:
            query = query.where(where)
        rows = bind.execute(query.order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            masked = {c: mask(row._mapping[c]) for c, mask in zip(columns, maskers, strict=True)}
            if any(masked[c] != row._mapping[c] for c in columns):
                bind.execute(table.update().where(table.c.id == row.id).values(**masked))
        last = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "console_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("outcome IN ('success', 'failure', 'throttled')", name="ck_console_login_outcome"),
        sa.ForeignKeyConstraint(["user_id"], ["console_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_logins", schema=None) as batch_op:
        batch_op.create_index("ix_console_logins_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_console_logins_at", ["at"], unique=False)
        batch_op.create_index("ix_console_logins_username_at", ["username", "at"], unique=False)

    messages = sa.table(
        "console_messages",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("text", sa.Text),
        sa.column("search_text", sa.Text),
        sa.column("entities_json", sa.Text),
    )
    _mask_rows(
        messages,
        ["text", "search_text", "entities_json"],
        [_mask, _mask, _mask_entities],
        where=messages.c.kind == "user",
    )
    corrections = sa.table(
        "console_corrections",
        sa.column("id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("entities_json", sa.Text),
    )
    _mask_rows(corrections, ["text", "entities_json"], [_mask, _mask_entities])


def downgrade() -> None:
    # The masked codes are not restored: nobody should read them again.
    with op.batch_alter_table("console_logins", schema=None) as batch_op:
        batch_op.drop_index("ix_console_logins_username_at")
        batch_op.drop_index("ix_console_logins_at")
        batch_op.drop_index("ix_console_logins_address_at")
    op.drop_table("console_logins")
