#!/usr/bin/env bash
# `make run`, development mode: the action server (with a shared secret made for this run), the
# staff console, the Rasa server (REST, WhatsApp and SMS channels) and, when no Twilio account is
# configured, the local Twilio stand-in; every process on 127.0.0.1. Rasa's HTTP API only with
# RASA_ENABLE_API=1 and RASA_API_TOKEN. What each process runs is decided in bot/stack.py (the
# test stack starts them the same way). Ctrl-C stops them all.
set -euo pipefail
MODEL=$1 PORT=$2 ACTIONS_PORT=$3
mkdir -p var
exec .venv/bin/python -m bot.stack run --model "$MODEL" --port "$PORT" --actions-port "$ACTIONS_PORT"
