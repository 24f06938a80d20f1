"""A farmer's phone on the command line: sends signed Twilio webhooks to the bot and prints the
replies the way that phone would show them (SMS: GSM-7 text and the number of billed parts).

    python -m bot.twilio_standin.phone --phone +524431000001 --medium sms \\
        --to http://127.0.0.1:5005 --say "cuando me pagan"
    python -m bot.twilio_standin.phone --phone +524431000001 --medium whatsapp   # interactive

Replies are read from the Twilio stand-in (--standin, default http://127.0.0.1:4010), where the
bot sends them when TWILIO_API_BASE points at it. Webhooks are posted as Twilio posts them: with
connection overrides in --to's fragment (``--to "http://127.0.0.1:5005#rp=5xx&rc=3"``) an answer
of 503 is retried, as Twilio would; without them it is not. In the interactive mode these lines send
something other than text:
    /audio   a voice note          /foto   a photo          /doc   a PDF document
    /ubicacion 19.41,-102.05 Uruapan    a WhatsApp location pin
    /salir   leave
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time

from bot.messaging.formatting import sms_parts
from bot.phones import normalize_phone, twilio_address
from bot.twilio_standin.client import StandinClient, post_like_twilio, webhook_params, without_fragment

MEDIA_SAMPLES = {
    "/audio": ("https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1", "audio/ogg"),
    "/foto": ("https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME2", "image/jpeg"),
    "/doc": ("https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME3", "application/pdf"),
}


def show(message: dict, medium: str) -> str:
    body = message.get("body") or f"[plantilla {message.get('content_sid')}]"
    if medium == "sms":
        parts = sms_parts(body)
        plural = "s" if parts.parts != 1 else ""
        header = f"── SMS · {parts.parts} parte{plural} · {parts.units} caracteres ({parts.encoding})"
    else:
        header = "── WhatsApp"
    lines = [textwrap.fill(line, 60) if line else "" for line in body.split("\n")]
    return header + "\n" + "\n".join("   " + line for line in "\n".join(lines).split("\n"))


class Phone:
    def __init__(
        self,
        phone: str,
        medium: str,
        bot_url: str,
        standin_url: str,
        auth_token: str,
        public_base_url: str,
        profile_name: str,
        wait: float,
    ):
        self.phone = normalize_phone(phone)
        self.medium = medium
        self.overrides = bot_url.partition("#")[2]  # Twilio's connection overrides, if any
        self.bot_url = without_fragment(bot_url).rstrip("/")
        self.public_base_url = without_fragment(public_base_url or bot_url).rstrip("/")
        self.standin = StandinClient(standin_url)
        self.auth_token = auth_token
        self.profile_name = profile_name
        self.wait = wait
        self.address = twilio_address(self.phone, medium)
        self.seen = len(self.standin.messages(to=self.address))

    def send(self, text: str) -> list[dict]:
        media, location, body = None, None, text
        word = text.strip().split(" ", 1)
        if word[0] in MEDIA_SAMPLES:
            media, body = [MEDIA_SAMPLES[word[0]]], (word[1] if len(word) > 1 else "")
        elif word[0] == "/ubicacion" and len(word) > 1:
            coords, _, label = word[1].partition(" ")
            lat, lon = (float(v) for v in coords.split(","))
            location, body = (lat, lon, label), ""
        params = webhook_params(
            self.phone, self.medium, body, media=media, location=location, profile_name=self.profile_name
        )
        self.standin.control(inbound={self.address: time.time()})  # the phone wrote: its 24-hour window
        path = f"/webhooks/{self.medium}/webhook"
        url = self.bot_url + path + (f"#{self.overrides}" if self.overrides else "")
        result = post_like_twilio(url, params, self.auth_token, public_url=self.public_base_url + path)
        if result.status != 200:
            tries = f" after {result.attempts} tries" if result.attempts > 1 else ""
            print(f"!! the bot answered HTTP {result.status}{tries}: {result.body[:200]}", file=sys.stderr)
            return []
        return self.collect()

    def collect(self) -> list[dict]:
        """Replies arriving at the stand-in; stops when none came for a moment."""
        deadline, quiet_since, found = time.monotonic() + self.wait, None, []
        while time.monotonic() < deadline:
            new = self.standin.messages(to=self.address)[self.seen :]
            if new:
                self.seen += len(new)
                found.extend(new)
                quiet_since = time.monotonic()
            elif quiet_since and time.monotonic() - quiet_since > 1.0:
                break
            time.sleep(0.1)
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Talk to the bot as a farmer's phone, through signed Twilio webhooks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[-1],
    )
    parser.add_argument("--phone", required=True, help="the farmer's number, e.g. +524431000001")
    parser.add_argument("--medium", choices=("sms", "whatsapp"), default="sms")
    parser.add_argument(
        "--to",
        default="http://127.0.0.1:5005",
        help="the bot (rasa run) URL; a fragment holds Twilio's connection overrides (#rp=5xx&rc=3)",
    )
    parser.add_argument("--standin", default="http://127.0.0.1:4010")
    parser.add_argument(
        "--public-base-url",
        default=os.environ.get("TWILIO_PUBLIC_BASE_URL", ""),
        help="the URL the bot validates signatures against (default: --to)",
    )
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN", ""))
    parser.add_argument("--name", default="Productor", help="WhatsApp profile name")
    parser.add_argument("--say", action="append", help="send this and exit (repeatable)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for replies")
    args = parser.parse_args(argv)
    if not args.auth_token:
        parser.error("--auth-token or TWILIO_AUTH_TOKEN is needed to sign the webhooks")
    phone = Phone(
        args.phone,
        args.medium,
        args.to,
        args.standin,
        args.auth_token,
        args.public_base_url,
        args.name,
        args.wait,
    )
    label = "WhatsApp" if args.medium == "whatsapp" else "SMS"
    if args.say:
        for text in args.say:
            print(f"> {text}")
            for message in phone.send(text):
                print(show(message, args.medium))
        return 0
    print(f"{label} de {phone.phone}. Escriba su mensaje (/salir para terminar).")
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text.strip() == "/salir":
            return 0
        replies = phone.send(text)
        if not replies:
            print("(sin respuesta)")
        for message in replies:
            print(show(message, args.medium))


if __name__ == "__main__":
    sys.exit(main())
