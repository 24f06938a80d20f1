"""Queries on the console's own tables (console_messages, console_reviews, console_corrections,
console_replies, console_users, console_audit, console_uploads), and retention.py: what the
retention purge removes from them and from Rasa's tracker. Every function takes the caller's
Session; the caller owns the unit of work."""
