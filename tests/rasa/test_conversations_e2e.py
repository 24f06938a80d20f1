"""Whole conversations through a running Rasa server and action server, as a farmer's phone
number would have them (REST channel, sender = phone). One per topic."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.rasa


class Farmer:
    def __init__(self, stack, phone: str):
        self.url = f"{stack['url']}/webhooks/rest/webhook"
        self.phone = phone

    def says(self, text: str) -> str:
        response = requests.post(self.url, json={"sender": self.phone, "message": text}, timeout=60)
        assert response.status_code == 200
        return "\n".join(m.get("text", "") for m in response.json())


def test_payment_status_conversation(rasa_stack):
    rosa = Farmer(rasa_stack, "whatsapp:+5214431000001")
    assert "Aviso de privacidad" in rosa.says("ola buenas tardes")
    assert "Gracias" in rosa.says("1")
    ask = rosa.says("cuando me pagan la ultima entrega?")
    assert "folio" in ask and "$" not in ask
    answer = rosa.says("8204")
    assert "F-300102: $36,270.00, se pagará el" in answer and "84 kg" in answer


def test_payment_for_unknown_number(rasa_stack):
    stranger = Farmer(rasa_stack, "+524439999999")
    stranger.says("hola")
    stranger.says("si acepto")
    answer = stranger.says("ya me depositaron??")
    assert "no está registrado" in answer and "$" not in answer


def test_trainings_conversation(rasa_stack):
    miguel = Farmer(rasa_stack, "+526671000004")
    miguel.says("buenas")
    miguel.says("1")
    listing = miguel.says("cuando es la proxima capacitacion?")
    assert "Culiacán" in listing and "hora del Pacífico" in listing
    assert "¿Confirma" in miguel.says("1")
    assert "quedó inscrito" in miguel.says("si")


def test_quality_conversation(rasa_stack):
    farmer = Farmer(rasa_stack, "+524439990001")
    answer = farmer.says("que requisitos piden para el aguacate de primera")
    assert "Calidad Primera" in answer and "tabla de referencia del programa" in answer
    assert "Fuente:" in farmer.says("1")


def test_avocado_size_conversation(rasa_stack):
    farmer = Farmer(rasa_stack, "+524439990002")
    assert "calibre 40 o 48" in farmer.says("q calibre es un aguacate de 250 gramos")
    assert "48 frutos por caja" in farmer.says("y cuanto pesa el calibre 48")


def test_menu_by_number_and_request_for_a_person(rasa_stack):
    farmer = Farmer(rasa_stack, "+524439990003")
    menu = farmer.says("menu")
    assert "5. Hablar con una persona" in menu
    assert "solicitud" in farmer.says("5")


def test_nonsense_gets_a_clarifying_question_not_a_guess(rasa_stack):
    farmer = Farmer(rasa_stack, "+524439990004")
    answer = farmer.says("jsjsjs xdxd")
    assert "1. Mis pagos" in answer
