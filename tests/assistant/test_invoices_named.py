"""The farmer's own invoice picked by what farmers write instead of the printed folio: the folio
with spaces or after "folio", six digits alone right after a payments answer, the amount, the month
and what they were told ("la de agosto que me rechazaron"), the delivery it was for; "¿por qué?"
and "¿entonces qué hago?" about the invoice just shown; the last deposit's day and reference.
Facts are read from the seeded records (bot/records/seed.py), never another farmer's."""

from __future__ import annotations

from sqlalchemy import select

from bot.assistant import invoice_refs
from bot.db import session_scope
from bot.records.knowledge import explanation_by_code
from bot.records.payments import last_paid_invoice
from bot.records.schema import Farmer, HumanRequest, Invoice
from bot.records.vocabulary import HOLD_REASONS
from bot.replies.spanish import money
from bot.text import plain
from tests.assistant.phone import ROSA, Phone, accepted, checked, farmer_phone


def _invoices(url: str, folio: str) -> list[Invoice]:
    """The farmer's invoices, newest first, with their deliveries."""
    with session_scope(url) as s:
        farmer = s.execute(select(Farmer).where(Farmer.folio == folio)).scalar_one()
        rows = list(
            s.execute(
                select(Invoice).where(Invoice.farmer_id == farmer.id).order_by(Invoice.issued_on.desc())
            ).scalars()
        )
        for row in rows:
            _ = row.delivery
        s.expunge_all()
    return rows


def _one(invoices: list[Invoice], **wanted: str) -> Invoice:
    return next(i for i in invoices if all(getattr(i, k) == v for k, v in wanted.items()))


def test_folios_as_farmers_type_them():
    assert invoice_refs.folio_named("la f 425 493 xq esta detenida") == "F-425493"
    assert invoice_refs.folio_named("me da razon del folio 671253 porfavor") == "F-671253"
    assert invoice_refs.folio_named("y la F425493?") == "F-425493"
    assert invoice_refs.folio_named("y la 570 811?") is None  # six digits alone: only after payments
    assert invoice_refs.folio_named("y la 570 811?", bare=True) == "F-570811"
    assert invoice_refs.folio_named("y uno de 250 gramos", bare=True) is None
    assert invoice_refs.folio_named("la clabe es 012180015678912345", bare=True) is None
    assert invoice_refs.amount_named("oiga y la de 9450 pesos q onda") == (9450, 9451)
    assert invoice_refs.amount_named("la de 64 mil xq me la rechazaron") == (64000, 65000)
    assert invoice_refs.amount_named("tengo 60 arboles") is None


def test_a_folio_typed_with_spaces_gives_that_invoice_with_its_reason(db):
    folio = "PP-545740"
    held = _one(_invoices(db, folio), status_reason_code="rfc_mismatch")
    phone = farmer_phone(db, folio, "whatsapp")
    checked(phone, folio, "ask_payment_status", "como va mi pago")
    digits = held.folio[2:]
    answer = phone.send("ask_explanation", f"la f {digits[:3]} {digits[3:]} xq esta detenida")
    assert held.folio in answer and HOLD_REASONS["rfc_mismatch"] in answer
    assert "No encontré" in phone.send("ask_payment_status", "y la f 300 102?")  # another farmer's


def test_folio_written_after_folio_then_six_digits_alone(db):
    folio = "PP-352402"
    invoices = _invoices(db, folio)
    held, paid = _one(invoices, status="on_hold"), _one(invoices, status="paid")
    phone = farmer_phone(db, folio, "sms")
    answer = checked(
        phone, folio, "ask_deliveries", f"buen dia me da razon del folio {held.folio[2:]} porfavor"
    )
    assert held.folio in answer and "retenida" in answer and HOLD_REASONS[held.status_reason_code] in answer
    digits = paid.folio[2:]
    answer = phone.send("follow_up", f"y la {digits[:3]} {digits[3:]}?")
    assert paid.folio in answer and "pagada" in answer


def test_an_invoice_by_its_amount_in_pesos_or_thousands(db):
    folio = "PP-209442"
    rejected = _one(_invoices(db, folio), status="rejected")
    phone = farmer_phone(db, folio, "whatsapp")
    checked(phone, folio, "ask_payment_history", "cuanto llevo cobrado en lo q va del año")
    pesos = f"{int(rejected.amount_mxn)}"
    answer = phone.send("follow_up", f"oiga y la de {pesos} pesos q onda con esa")
    assert rejected.folio in answer and "rechazada" in answer and HOLD_REASONS["duplicate_invoice"] in answer
    assert "No encontré esa factura" in phone.send("follow_up", "y la de 3 pesos?")
    folio = "PP-276187"
    rejected = _one(_invoices(db, folio), status="rejected")
    phone = farmer_phone(db, folio, "whatsapp")
    checked(phone, folio, "ask_payment_history", "tengo algo pendiente x cobrar?")
    thousands = int(rejected.amount_mxn) // 1000
    answer = phone.send("ask_deliveries", f"la de {thousands} mil xq me la rechazaron")
    assert rejected.folio in answer and HOLD_REASONS[rejected.status_reason_code] in answer


def test_one_of_a_month_that_was_rejected_then_what_to_do(db):
    folio = "PP-136368"
    rejected = _one(_invoices(db, folio), status="rejected")
    phone = farmer_phone(db, folio, "sms")
    checked(phone, folio, "ask_payment_status", "cuando me cae el pago de mi ultima entrega")
    answer = phone.send("ask_deliveries", "oiga y hay una de agosto q me rechazaron q paso con esa")
    assert rejected.folio in answer and HOLD_REASONS[rejected.status_reason_code] in answer
    todo = phone.send("help", "entonces q hago la vuelvo a hacer?")
    with session_scope(db) as s:
        meaning = explanation_by_code(s, "status_rejected").explanation
        what = explanation_by_code(s, rejected.status_reason_code).what_to_do
    assert plain(meaning) in plain(todo) and plain(what) in plain(todo)


def test_why_right_after_a_held_invoice_is_that_invoices_reason(db):
    folio = "PP-878600"
    held = _one(_invoices(db, folio), status="on_hold")
    phone = farmer_phone(db, folio, "sms")
    answer = checked(phone, folio, "ask_payment_history", "tengo un pago q no me han hecho desde agosto")
    assert held.folio in answer
    why = phone.send("ask_explanation", "a poco, y eso por que")
    assert "XML" in why and "F-" not in why
    phone.send("ask_payment_history", "q me falta x cobrar")
    assert "XML" in phone.send("ask_explanation", "aah ok y eso xq?")


def test_a_rejected_one_no_longer_paid_says_what_rejected_means(db):
    folio = "PP-173372"
    phone = farmer_phone(db, folio, "whatsapp")
    checked(phone, folio, "ask_payment_status", "oiga y el pago de mi ultima entrega pa cuando")
    shown = phone.send("ask_payment_status", "y la de octubre q me dijeron q estaba repetida?")
    assert "duplicada" in shown
    answer = phone.send("nlu_fallback", "ahh ok entonces esa ya no la cobro o como")
    assert "no se va a pagar" in answer


def test_the_last_deposit_its_day_and_its_reference(db):
    folio = "PP-866547"
    phone = farmer_phone(db, folio, "sms")
    checked(phone, folio, "ask_payment_history", "cuanto me pagaron en octubre del limon")
    with session_scope(db) as s:
        farmer = s.execute(select(Farmer).where(Farmer.folio == folio)).scalar_one()
        last = last_paid_invoice(s, farmer.id)
    answer = phone.send("ask_payment_history", "y cuando fue el ultimo deposito")
    assert last.folio in answer and str(last.paid_on.day) in answer
    assert last.bank_reference_last4 in phone.send("follow_up", "y la referencia de ese?")
    folio = "PP-954532"
    phone = farmer_phone(db, folio, "sms")
    checked(phone, folio, "ask_payment_history", "q pagos me hicieron en octubre")
    phone.send("ask_payment_history", "y en agosto?")
    october = [i for i in _invoices(db, folio) if i.paid_on and i.paid_on.month == 10]
    answer = phone.send("nlu_fallback", "fijese q el de octubre no lo veo en el banco, me da la referencia")
    assert october and all(i.bank_reference_last4 in answer for i in october[:2])


def test_the_invoice_of_what_was_delivered(db):
    folio = "PP-545740"
    invoices = _invoices(db, folio)
    latest = max((i for i in invoices if i.delivery), key=lambda i: i.delivery.delivered_on)
    phone = farmer_phone(db, folio, "whatsapp")
    answer = checked(
        phone,
        folio,
        "ask_payment_status",
        "kiubo, ya me depositaron lo del jitomate q entregue la semana pasada?",
    )
    assert latest.folio in answer and money(latest.amount_mxn) in answer
    folio = "PP-386958"
    invoices = _invoices(db, folio)
    latest = max((i for i in invoices if i.delivery), key=lambda i: i.delivery.delivered_on)
    phone = farmer_phone(db, folio, "sms")
    checked(phone, folio, "ask_deliveries", "cuantos kilos de chile entregue la ultima vez")
    phone.send("follow_up", "y en la anterior?")
    answer = phone.send("ask_payment_status", "oiga y esa ultima ya me la pagaron o todavia")
    assert latest.folio in answer and "retenida" in answer


def test_an_account_number_is_never_taken_in_the_chat(db):
    phone = accepted(Phone(ROSA, "whatsapp"))
    answer = phone.send("help", "le paso la clabe x aqui? es 012180015678912345")
    assert "Por seguridad" in answer and "0121" not in answer
    assert "no nos mande" in phone.send("nlu_fallback", "la nueva es 0121 8000 1234 5678 91 de bbva")
    with session_scope(db) as s:
        kept = s.execute(select(HumanRequest.last_message).where(HumanRequest.phone == ROSA)).scalars().all()
    assert not any("0121" in (text or "") for text in kept)
