"""Rasa input channels of our own (WhatsApp and SMS through Twilio)."""
