#!/usr/bin/env bash
# `make production`: the production mode on this machine's PostgreSQL (127.0.0.1:5432), Redis
# (6379) and RabbitMQ (5672), under honcho (deploy/Procfile): the action server, two Rasa workers,
# one webhook gateway, the sender and the staff console (waitress), after migrating once.
#
# Settings: the environment, then for the services' URLs it does not set, the private credentials
# of this machine (a PostgreSQL role, a RabbitMQ user and vhost and a Redis ACL user `pp`, made once
# by scripts/provision_credentials.sh and kept in var/production.credentials.env, mode 600), then
# for whatever is still unset the defaults in deploy/production.env.example (README, *Production*).
# The processes refuse shared or missing credentials (bot/messaging/credentials.py). Without a
# Twilio account and with TWILIO_USE_STANDIN=1 the replies go to the local Twilio stand-in, started
# here too. Ctrl-C stops everything.
set -euo pipefail
MODEL=$1
cd "$(dirname "$0")/.."
mkdir -p var

# Exports a file's NAME=value lines that the environment leaves unset (an empty value in the
# environment counts as set).
defaults_from() {
  local line name value
  while IFS= read -r line; do
    [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || continue
    name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    [ -n "${!name+x}" ] || export "$name=$value"
  done <"$1"
}

CREDENTIALS=var/production.credentials.env
if [ -z "${DATABASE_URL+x}" ] || [ -z "${TRACKER_DATABASE_URL+x}" ] ||
  [ -z "${RABBITMQ_URL+x}" ] || [ -z "${REDIS_URL+x}" ]; then
  bash scripts/provision_credentials.sh "$CREDENTIALS"
  defaults_from "$CREDENTIALS"
fi
defaults_from deploy/production.env.example
export MODEL=${MODEL}
# Rasa's and TensorFlow's start-up noise out of the way (as the Makefile does for `make run`).
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3} PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}
export SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=${RASA_TELEMETRY_ENABLED:-false}

if [ -z "${ACTION_SERVER_TOKEN}" ]; then
  ACTION_SERVER_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  export ACTION_SERVER_TOKEN
  echo "ACTION_SERVER_TOKEN not set: a random one made for this run."
fi
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_SERVER_PORT}/webhook}

processes=(actions worker1 worker2 gateway sender notices console)
if [ "${TWILIO_USE_STANDIN}" = 1 ]; then
  if [ -n "${TWILIO_ACCOUNT_SID}" ]; then
    echo "TWILIO_USE_STANDIN=1 with a Twilio account set: unset one." >&2
    exit 2
  fi
  export STANDIN_PORT=${STANDIN_PORT:-4010}
  export TWILIO_ACCOUNT_SID=ACdev TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-dev-token}
  export TWILIO_WHATSAPP_FROM=whatsapp:+14155238886 TWILIO_SMS_FROM=+15005550006
  export TWILIO_API_BASE=http://127.0.0.1:${STANDIN_PORT}
  export TWILIO_PUBLIC_BASE_URL=${TWILIO_PUBLIC_BASE_URL:-http://127.0.0.1:${GATEWAY_PORT}}
  processes+=(standin)
  echo "Twilio stand-in on 127.0.0.1:${STANDIN_PORT}: make phone PHONE=+524431000001 PORT=${GATEWAY_PORT}"
fi

# Once, before any process starts (each of them could, safely: bot/records/migrate.py).
.venv/bin/python -m bot.cli migrate --create "${TRACKER_DATABASE_URL}"
if [ "${SEED_DEMO}" = 1 ]; then
  .venv/bin/python -m bot.cli setup-db
fi

echo "Gateway on http://${GATEWAY_HOST}:${GATEWAY_PORT} (Twilio's webhooks), workers' metrics on" \
  "${WORKER_HTTP_PORT} and $((WORKER_HTTP_PORT + 1)), console on http://${CONSOLE_HOST}:${CONSOLE_PORT}."
exec .venv/bin/honcho start -f deploy/Procfile -d . "${processes[@]}"
