"""The dashboard page: its five server-drawn charts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def test_dashboard_charts(client_for):
    client = client_for("viewer")
    today = datetime.now(timezone.utc).date()
    html = client.get(f"/panel?desde={today - timedelta(days=6)}&hasta={today + timedelta(days=1)}").get_data(
        as_text=True
    )
    assert html.count("<svg") == 5 and "<script" not in html
    assert "productores atendidos" in html and "Intenciones más frecuentes" in html
    assert "ask_payment_status" in html
    assert "Mensajes por día y por medio" in html
    assert "sin respuesta" in html
