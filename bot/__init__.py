"""Pequeño Productor assistant: our own code beside Rasa (records, replies, channels, console, CLI)."""
