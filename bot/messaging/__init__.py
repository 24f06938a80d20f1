"""Messaging records and delivery for the Twilio WhatsApp and SMS channels.

Records (each function takes the caller's Session; the caller owns the unit of work):
    inbound.py          inbound_messages: storing, dedupe, marking, unfinished messages
    outbound.py         outbound_messages and the outbox: sends, retries, replies queued
    outbox_claims.py    the senders' claims on the outbox (FIFO per phone, with a lease)
    outbound_reads.py   what staff read of the messages sent: statuses by reply, by SID, by period
    outbox.py           the outbox for the senders: skipped, uncertain, deferred, claims given
                        back, depth, the wake-up NOTIFY
    delivery_status.py  message_status_events: Twilio's status callbacks
    optout.py           opt_out_events and the BAJA / ALTA keywords
    retention.py        what the retention purge (bot/retention.py) removes from these tables
    personal_data.py    a farmer's messages for an ARCO access file, and their erasure
    inbound_work.py     production: inbound messages stored with their sequence numbers
    inbound_claims.py   production: the workers' claims, finishes, retries, recovery
    partitions.py       production: a phone's partition, the workers' partition leases
Webhooks (any entry point): webhook_checks.py (size, signature, MessageSid), twilio_form.py (the
form), status_callbacks.py. Production mode: intake.py (a gateway's store and publish),
broker.py (RabbitMQ's inbound queues), turns.py (what a worker records around a Rasa turn).
Service: delivery.py (replies, notices, the outbox worker); dispatch.py (the one claim / send /
record path of the outbox worker and the sender processes); work.py runs a step in one unit of
work on the messaging threads. Process: send_loop.py (production's sender, `python -m
bot.messaging.send_loop`), its health and metrics in sender_health.py. Shaping: formatting.py;
wording: texts.py; Twilio: sender.py, config.py; vocabulary: statuses.py; tables: schema.py.
"""
