"""Messaging records and delivery for the Twilio WhatsApp and SMS channels."""
