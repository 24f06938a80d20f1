# Two commands are the contract (see README): `make run` and `make test`.
# Everything else here is a step they share. Nothing is done twice: the venv is rebuilt only when
# requirements.lock changes, the model is trained only when config, domain, data or bot/nlu
# change, and the demo records are seeded only into an empty database.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
# Any CPython 3.10 that runs: on PATH, or from pyenv (a pyenv shim may exist and fail).
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 2>/dev/null) \
  /usr/local/bin/python3.10 /usr/bin/python3.10; do \
  $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)
# Keep Rasa's and TensorFlow's start-up noise out of the way of a person reading the output.
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONWARNINGS := ignore
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
export LOG_LEVEL_LIBRARIES := ERROR

# Some machines list local package mirrors that do not exist; pip warns once per package.
PIP_NOISE := is ignored: it is neither a file nor a directory

MODEL_NAME = $(shell $(PY) -m bot.cli model-name)
MODEL = models/$(MODEL_NAME).tar.gz
PHONE ?= +524431000001
PORT ?= 5005
ACTIONS_PORT ?= 5055
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: setup venv model db browser run chat console phone bench-channels bench-journeys bench-pacing bench-notices production chaos bench-load multi-host test clean

setup: venv model db

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "CPython 3.10 is needed (Rasa 3.6 does not run on 3.11)."; exit 1; }
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	@set -o pipefail; $(PY) -m pip install --quiet --upgrade "pip==24.3.1" 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@echo "Installing pinned packages (first time: a few minutes)..."
	@set -o pipefail; $(PY) -m pip install --quiet --no-deps -r requirements.lock 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@$(PY) -m pip check
	@touch $@

model: venv
	@mkdir -p var models
	@if [ -f $(MODEL) ]; then echo "Model up to date: $(MODEL)"; else \
	  echo "Training $(MODEL) (a few minutes on 2 cores)..."; \
	  $(RASA) train --quiet --fixed-model-name $(MODEL_NAME) --out models > var/train.log 2>&1 \
	    || { tail -n 40 var/train.log; exit 1; }; \
	  echo "Model trained: $(MODEL)"; fi

db: venv
	@mkdir -p var
	@$(PY) -m bot.cli setup-db

# Debian's Chromium for the staff console's browser tests (installed when we may; else they skip).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "Chromium not installed: the console's browser tests will be skipped."; }

run: setup
	@bash scripts/run.sh $(MODEL) $(PORT) $(ACTIONS_PORT)

console: setup
	@$(PY) -m bot.console serve

# A farmer's phone through signed Twilio webhooks, with `make run` going (local stand-in).
MEDIUM ?= sms
phone: venv
	@$(PY) -m bot.twilio_standin.phone --phone "$(PHONE)" --medium $(MEDIUM) --to http://127.0.0.1:$(PORT) \
	  --standin http://127.0.0.1:$${STANDIN_PORT:-4010} --auth-token dev-token

# The benchmark wants the stand-in, and says so: with `make run` going without a Twilio account.
bench-channels: venv
	@TWILIO_USE_STANDIN=1 $(PY) bench/channels_bench.py --farmers 20 --messages 3 --auth-token dev-token

# What a farmer pays and types (issue 15): the standard journeys over SMS and WhatsApp, with what
# they need started for the run and stopped after (a fresh database, the Twilio stand-in, the
# action server, Rasa on the current model; all on 127.0.0.1). Table: bench/results/journeys.md.
bench-journeys: model
	@$(PY) bench/journeys.py --model $(MODEL)

# The senders' shared pace (issue 14): sender processes bursting SMS and WhatsApp through the
# stand-in, which enforces Twilio's per-sender rate with 429s; unpaced against paced, in one run.
bench-pacing: venv
	@$(PY) bench/pacing_bench.py --processes 4 --messages 400 --limit 50

# Notices at scale (issue 14): a broadcast to 10,000 generated farmers with a payment run in the
# middle, through the notice scheduler (SIGKILLed once and started again), two workers and two
# senders to the stand-in, which enforces 50 units/s per sender with 429s; on a clock the bench
# controls. On this machine's PostgreSQL and RabbitMQ (a database and queues of its own, removed
# after); under 10 minutes; exit code 1 when a target is missed. Result: bench/results/notices.md.
bench-notices: venv
	@$(PY) bench/notices_bench.py --farmers 10000 --limit 50

chat: setup
	@PHONE="$(PHONE)" bash scripts/chat.sh $(MODEL)

# Production mode on this machine's PostgreSQL, Redis and RabbitMQ (README, *Production*): the
# action server, two Rasa workers, the webhook gateway, the sender and the console under honcho,
# migrated once first. Settings: the environment over deploy/production.env.example.
production: venv model
	@bash scripts/production.sh $(MODEL)

# The production mode under faults (issue 13; not part of `make test`): private PostgreSQL,
# RabbitMQ and Redis in a temporary folder, two workers, two gateways, the sender, the action
# server and the Twilio stand-in; seven scenarios, bounded under 10 minutes (bench/chaos.py).
# On the current model, or the newest one in models/ when the training data changed since
# (it never trains). Exit code 1 when a message was lost, duplicated or answered out of order.
chaos: venv
	@$(PY) bench/chaos.py

# The production mode under load against Rasa's REST channel (issue 13; not part of `make test`):
# private PostgreSQL, RabbitMQ and Redis; Rasa's REST channel, then one and two Rasa workers behind
# two gateways, on the same model and cores; 100 farmers at once, then 500 arriving 4 a second,
# on the standard journeys (bench/load.py, about 10 minutes). Result: bench/results/load.md;
# exit code 1 when a target is missed. On the current model, as `make chaos`.
bench-load: venv
	@$(PY) bench/load.py

# The gateway and a Rasa worker as separate hosts (issue 13; not part of `make test`; needs root):
# each in a network namespace of its own (ip netns, veth), reaching private PostgreSQL, RabbitMQ
# and Redis over the veth with credentials of their own (no trust, no guest), the stand-in and
# the action server on the services' side; signed webhooks from outside, every answer counted
# (bench/multi_host.py, about a minute). It deletes the namespaces, links and folder
# after. Exit code 1 when a check failed or a message was not answered once, in order.
multi-host: venv
	@$(PY) bench/multi_host.py

test: setup browser
	@TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" RASA_MODEL="$(MODEL)" $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var models/*.tar.gz
