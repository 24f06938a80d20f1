#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST, WhatsApp and SMS channels) on the embedded
# default. Ctrl-C stops both.
set -euo pipefail
MODEL=$1 PORT=$2 ACTIONS_PORT=$3
mkdir -p var
.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions > var/actions.log 2>&1 &
ACTIONS_PID=$!
.venv/bin/python -m bot.console serve --port "${CONSOLE_PORT:-8000}" > var/console.log 2>&1 &
CONSOLE_PID=$!
trap 'kill $ACTIONS_PID $CONSOLE_PID 2>/dev/null || true' EXIT
echo "Action server on :$ACTIONS_PORT (log: var/actions.log)"
echo "Staff console on http://127.0.0.1:${CONSOLE_PORT:-8000} (create an account: .venv/bin/python -m bot.console create-user --username coordinacion --role admin)"
echo "Assistant on http://127.0.0.1:$PORT  (REST: /webhooks/rest/webhook, WhatsApp: /webhooks/whatsapp/webhook, SMS: /webhooks/sms/webhook)"
echo "Loading the model takes about a minute. Chat in another terminal: make chat PHONE=+524431000001"
.venv/bin/rasa run -m "$MODEL" --port "$PORT" --enable-api --credentials credentials.yml \
  --endpoints endpoints.yml --log-file var/rasa.log
