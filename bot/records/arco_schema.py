"""Tables of the farmers' ARCO requests (LFPDPPP: access, rectification, cancellation and
opposition), on the program records' declarative Base (revision 0008).

arco_requests        a request staff recorded: whose, which right, how the identity was checked,
                     when it was received, its due date (when the legal deadline is set) and status
arco_steps           what was done on a request, by whom and when: the request's audit trail
purpose_oppositions  a purpose (notices, broadcasts) a farmer opposed; bot/records/oppositions.py
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from bot.records import vocabulary
from bot.records.schema import Base, one_of
from bot.records.vocabulary import codes
from bot.timeutil import utcnow

ARCO_RIGHTS = codes(vocabulary.ARCO_RIGHTS)
ARCO_STATUSES = codes(vocabulary.ARCO_STATUSES)
ARCO_ACTIONS = codes(vocabulary.ARCO_ACTIONS)
OPPOSITION_PURPOSES = codes(vocabulary.OPPOSITION_PURPOSES)


class ArcoRequest(Base):
    __tablename__ = "arco_requests"
    __table_args__ = (
        CheckConstraint(one_of("arco_right", ARCO_RIGHTS), name="ck_arco_right"),
        CheckConstraint(one_of("status", ARCO_STATUSES), name="ck_arco_status"),
    )
    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False, index=True)
    arco_right = Column(String(16), nullable=False)  # vocabulary.ARCO_RIGHTS ("right" is SQL's)
    identity_check = Column(Text, nullable=False)  # how staff checked who asked
    received_at = Column(DateTime(timezone=True), nullable=False)
    due_on = Column(Date, nullable=True)  # None while ARCO_RESPONSE_BUSINESS_DAYS is not set
    status = Column(String(10), nullable=False, default="open")
    created_by = Column(String(80), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    closed_at = Column(DateTime(timezone=True), nullable=True)
    notes = Column(Text, nullable=True)
    # A cancellation in bloqueo: the numbers unlinked from the farmer, comma separated, kept only
    # until the supresión erases what they sent and received.
    blocked_phones = Column(Text, nullable=True)

    farmer = relationship("Farmer")
    steps = relationship("ArcoStep", order_by="ArcoStep.id", cascade="all, delete-orphan")


class ArcoStep(Base):
    __tablename__ = "arco_steps"
    __table_args__ = (CheckConstraint(one_of("action", ARCO_ACTIONS), name="ck_arco_step_action"),)
    id = Column(Integer, primary_key=True)
    request_id = Column(
        Integer, ForeignKey("arco_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    action = Column(String(20), nullable=False)  # vocabulary.ARCO_ACTIONS
    done_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    done_by = Column(String(80), nullable=False)
    detail = Column(Text, nullable=True)  # what was done, in Spanish, for the request's page


class PurposeOpposition(Base):
    """The farmer opposed the use of their number for a purpose; ``phone`` None: every number."""

    __tablename__ = "purpose_oppositions"
    __table_args__ = (CheckConstraint(one_of("purpose", OPPOSITION_PURPOSES), name="ck_opposition_purpose"),)
    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False, index=True)
    phone = Column(String(20), nullable=True)
    purpose = Column(String(12), nullable=False)  # vocabulary.OPPOSITION_PURPOSES
    since = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    request_id = Column(Integer, ForeignKey("arco_requests.id"), nullable=True)
