"""What the channel itself says to a farmer: the wording lives in bot/replies/catalog.py with
everything else a farmer reads; this module picks the right sentence."""

from __future__ import annotations

from bot.replies.catalog import render

OPT_OUT_CONFIRMED = render("channel_opt_out_confirmed")
OPT_IN_CONFIRMED = render("channel_opt_in_confirmed")
TURN_FAILED = render("channel_turn_failed")
TURN_DELAYED = render("channel_turn_delayed")  # production: retried by itself (bot/messaging/turns.py)
RATE_LIMITED = render("channel_rate_limited")
