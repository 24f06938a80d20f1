"""Messaging records and delivery for the Twilio WhatsApp and SMS channels.

Records (each function takes the caller's Session; the caller owns the unit of work):
    inbound.py          inbound_messages: storing, dedupe, marking, unfinished messages
    outbound.py         outbound_messages and the outbox: sends, claims, retries, staff reads
    delivery_status.py  message_status_events: Twilio's status callbacks
    optout.py           opt_out_events and the BAJA / ALTA keywords
    retention.py        what the retention purge (bot/retention.py) removes from these tables
    personal_data.py    a farmer's messages for an ARCO access file, and their erasure
Service: delivery.py (replies, notices, the outbox worker); work.py runs a step in one unit of
work on the messaging threads. Shaping: formatting.py; wording: texts.py; Twilio: sender.py,
config.py; vocabulary: statuses.py; tables: schema.py.
"""
