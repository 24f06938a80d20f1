#!/usr/bin/env bash
# Chat in the terminal as a farmer's phone number: `make chat PHONE=+524431000001`. Rasa's shell
# and an action server of its own, both on free ports of 127.0.0.1 (bot/stack.py).
set -euo pipefail
MODEL=$1
mkdir -p var
exec .venv/bin/python -m bot.stack chat --model "$MODEL" --phone "$PHONE"
