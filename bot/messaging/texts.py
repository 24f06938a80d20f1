"""What the channel itself says to a farmer: the wording lives in bot/replies/catalog.py with
everything else a farmer reads; this module picks the right sentence."""
from __future__ import annotations

from bot.replies.catalog import render

OPT_OUT_CONFIRMED = render("channel_opt_out_confirmed")
OPT_IN_CONFIRMED = render("channel_opt_in_confirmed")
MEDIA_AUDIO = render("channel_media_audio")
MEDIA_IMAGE = render("channel_media_image")
MEDIA_VIDEO = render("channel_media_video")
MEDIA_DOCUMENT = render("channel_media_document")
TURN_FAILED = render("channel_turn_failed")


def media_reply(content_types: list[str]) -> str:
    kinds = [(c or "").split("/", 1)[0].lower() for c in content_types]
    if "audio" in kinds:
        return MEDIA_AUDIO
    if "video" in kinds:
        return MEDIA_VIDEO
    if "image" in kinds:
        return MEDIA_IMAGE
    return MEDIA_DOCUMENT
