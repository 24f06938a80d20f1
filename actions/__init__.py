"""Thin rasa_sdk actions: each turns the tracker into a Turn and calls bot.assistant."""
