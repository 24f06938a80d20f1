#!/usr/bin/env bash
# Starts everything on the embedded default: the action server, the staff console, the Rasa
# server (REST, WhatsApp and SMS channels) and, when no Twilio account is configured, the local
# Twilio stand-in that the channels send to. Ctrl-C stops them all.
set -euo pipefail
MODEL=$1 PORT=$2 ACTIONS_PORT=$3
CONSOLE_PORT=${CONSOLE_PORT:-8000}
STANDIN_PORT=${STANDIN_PORT:-4010}
mkdir -p var
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions > var/actions.log 2>&1 &
PIDS+=($!)
echo "Action server on :$ACTIONS_PORT (log: var/actions.log)"

.venv/bin/python -m bot.console serve --port "$CONSOLE_PORT" > var/console.log 2>&1 &
PIDS+=($!)
echo "Staff console on http://127.0.0.1:$CONSOLE_PORT (first account: .venv/bin/python -m bot.console create-user --username coordinacion --role admin)"

if [ -z "${TWILIO_ACCOUNT_SID:-}" ]; then
  export TWILIO_ACCOUNT_SID=ACdev TWILIO_AUTH_TOKEN=dev-token \
    TWILIO_WHATSAPP_FROM=whatsapp:+14155238886 TWILIO_SMS_FROM=+15005550006 \
    TWILIO_PUBLIC_BASE_URL="http://127.0.0.1:$PORT" TWILIO_API_BASE="http://127.0.0.1:$STANDIN_PORT"
  .venv/bin/python -m bot.twilio_standin.server --port "$STANDIN_PORT" --auth-token dev-token \
    > var/standin.log 2>&1 &
  PIDS+=($!)
  echo "No Twilio account set: replies go to the local Twilio stand-in on :$STANDIN_PORT."
  echo "  Talk as a phone: make phone PHONE=+524431000001 MEDIUM=sms   (or MEDIUM=whatsapp)"
fi

# Rasa's and TensorFlow's start-up noise goes to var/rasa.log; this terminal says when it is ready.
.venv/bin/rasa run -m "$MODEL" --port "$PORT" --enable-api --credentials credentials.yml \
  --endpoints endpoints.yml > var/rasa.log 2>&1 &
RASA_PID=$!
PIDS+=($RASA_PID)
echo "Loading the model (about a minute; log: var/rasa.log)..."
until curl -sf "http://127.0.0.1:$PORT/status" > /dev/null; do
  kill -0 "$RASA_PID" 2>/dev/null || { echo "The assistant did not start:"; tail -n 30 var/rasa.log; exit 1; }
  sleep 2
done
echo "Assistant ready on http://127.0.0.1:$PORT (REST /webhooks/rest/webhook, /webhooks/whatsapp/webhook, /webhooks/sms/webhook)"
echo "Chat in the terminal: make chat PHONE=+524431000001. Ctrl-C stops everything."
wait "$RASA_PID"
