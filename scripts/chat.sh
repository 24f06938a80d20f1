#!/usr/bin/env bash
# Chat in the terminal as a farmer's phone number: `make chat PHONE=+524431000001`.
set -euo pipefail
MODEL=$1 ACTIONS_PORT=$2
mkdir -p var
.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions > var/actions.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT
echo "Chatting as $PHONE. Loading the model takes about a minute; type /stop to leave."
.venv/bin/rasa shell -m "$MODEL" --conversation-id "$PHONE" --endpoints endpoints.yml --quiet 2>var/shell.log
