"""Charts drawn on the server as plain SVG."""

from __future__ import annotations

from bot.console import charts


def test_charts_are_plain_svg_with_titles():
    svg = charts.stacked_bars(
        "Mensajes",
        ["1/11", "2/11"],
        {"whatsapp": [3, 0], "sms": [1, 2]},
        {"whatsapp": "WhatsApp", "sms": "SMS"},
    )
    assert svg.startswith("<svg") and "<title" in svg and "WhatsApp (3)" in svg
    assert "<script" not in svg
    bars = charts.hbars("Intenciones", [("greet <b>", 4)])
    assert "greet &lt;b&gt;" in bars
    assert charts._nice_max(0) == 4 and charts._nice_max(7) == 8 and charts._nice_max(37) == 40
