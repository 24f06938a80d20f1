"""The console's pages. Spanish for staff; English for code."""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from datetime import date, timedelta
from math import ceil
from typing import Optional
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from bot.console import charts, data, tracker
from bot.console.app import db
from bot.console.auth import AccountError, audit, authenticate, create_user, requires, set_password
from bot.console.forms import (
    ApplyUploadForm,
    CorrectionForm,
    EditUserForm,
    HandoverForm,
    LoginForm,
    LogoutForm,
    NewUserForm,
    ReplyForm,
    ReviewForm,
    UploadForm,
)
from bot.console.outbound import send_reply, whatsapp_window_open
from bot.console.schema import ConsoleAudit, ConsoleCorrection, ConsoleReply, ConsoleReview, ConsoleUpload, ConsoleUser
from bot.records import csv_import
from bot.records.schema import (
    Delivery,
    Enrolment,
    Farmer,
    FarmerPhone,
    HumanRequest,
    INVOICE_STATUSES,
    Invoice,
    Training,
)
from bot.text import plain
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)
bp = Blueprint("console", __name__)


def settings():
    return current_app.config["CONSOLE_SETTINGS"]


@contextmanager
def _short_session():
    session = current_app.extensions["console_sessions"]()
    try:
        yield session
    finally:
        session.close()


def _sync() -> None:
    try:
        tracker.sync(_short_session, settings().tracker_database_url)
    except SQLAlchemyError:
        logger.exception("tracker sync failed")
        flash("No se pudieron leer las conversaciones nuevas del asistente; se muestran las ya "
              "copiadas.", "warning")


def _date_arg(name: str) -> Optional[date]:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("pagina", "1")))
    except ValueError:
        return 1


def _safe_next(target: Optional[str]) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("console.conversations")


# --- login --------------------------------------------------------------------------------------

@bp.route("/entrar", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated:
        return redirect(url_for("console.conversations"))
    if form.validate_on_submit():
        user = authenticate(db(), form.username.data, form.password.data)
        if user is not None:
            from bot.console.auth import StaffUser

            db().commit()
            login_user(StaffUser(user.id, user.username, user.role))
            return redirect(_safe_next(request.args.get("next")))
        flash("Usuario o contraseña incorrectos.", "error")
    return render_template("login.html", form=form, title="Entrar")


@bp.route("/salir", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash("Sesión cerrada.", "info")
    return redirect(url_for("console.login"))


@bp.route("/")
def home():
    return redirect(url_for("console.conversations"))


# --- conversations ------------------------------------------------------------------------------

def _filters_from_request() -> data.ConversationFilters:
    args = request.args
    return data.ConversationFilters(
        q=args.get("q", "").strip()[:100], medium=args.get("medio", "") if args.get("medio") in ("whatsapp", "sms") else "",
        date_from=_date_arg("desde"), date_to=_date_arg("hasta"), intent=args.get("intencion", "").strip()[:100],
        low_confidence=bool(args.get("baja_confianza")), fallback=bool(args.get("no_entendio")),
        human=bool(args.get("pidio_persona")), unreviewed=bool(args.get("sin_revisar")),
        page=_page_arg(),
    )


@bp.route("/conversaciones")
def conversations():
    _sync()
    f = _filters_from_request()
    page = data.list_conversations(db(), f, settings().timezone, settings().page_size,
                                   settings().low_confidence)
    audit(db(), current_user, "list_conversations",
          detail=f"página {page.page}; {page.total} resultados")
    args = {k: v for k, v in request.args.items() if k != "pagina"}
    return render_template("conversations.html", title="Conversaciones", page=page, f=f,
                           intents=data.known_intents(db()), args=args)


def _transcript_context(sender_id: str, reply_form: Optional[ReplyForm] = None,
                        correction_errors: Optional[dict] = None):
    session = db()
    items = data.transcript(session, sender_id)
    farmers = data.farmers_by_phone(session, [sender_id]).get(sender_id, [])
    if not items and not farmers:
        abort(404)
    review = session.execute(select(ConsoleReview).where(ConsoleReview.sender_id == sender_id)).scalar_one_or_none()
    review_form = ReviewForm(formdata=None, reviewed=bool(review and review.reviewed),
                             tags=", ".join(data.split_tags(review.tags)) if review else "",
                             note=review.note if review else "")
    intents, _entities = data.domain_names()
    medium = data.last_medium(session, sender_id) or (farmers[0].preferred_medium if farmers else "sms")
    window_open = whatsapp_window_open(session, sender_id)
    requests_ = session.execute(
        select(HumanRequest).where(HumanRequest.phone == sender_id).order_by(HumanRequest.created_at.desc())
    ).scalars().all()
    open_request = next((r for r in requests_ if r.status != "closed"), None)
    if reply_form is None:
        reply_form = ReplyForm(formdata=None)
        reply_form.medium.data = "whatsapp" if medium == "whatsapp" and window_open else "sms"
        reply_form.human_request_id.data = str(open_request.id) if open_request else ""
    correction_forms = {}
    for item in items:
        if item.kind == "user":
            form = CorrectionForm(formdata=None, prefix=f"c{item.event_id}")
            form.intent.choices = [(i, i) for i in intents]
            chosen = item.correction
            form.event_id.data = item.event_id
            form.intent.data = chosen.intent if chosen else item.intent
            form.entities.data = data.entities_spec(
                json.loads(chosen.entities_json) if chosen and chosen.entities_json else item.entities,
                item.text)
            correction_forms[item.event_id] = form
    audit(session, current_user, "view_transcript", phone=sender_id,
          farmer_id=farmers[0].id if len(farmers) == 1 else None,
          detail=",".join(f.folio for f in farmers) or None)
    return dict(
        title=f"Conversación {sender_id}", sender_id=sender_id, items=items, farmers=farmers,
        review=review, review_form=review_form, reply_form=reply_form, medium=medium,
        window_open=window_open, requests=requests_, open_request=open_request,
        correction_forms=correction_forms, correction_errors=correction_errors or {},
        template_available=bool(settings().whatsapp_template_sid), low=settings().low_confidence,
    )


@bp.route("/conversaciones/<sender_id>")
def transcript(sender_id: str):
    _sync()
    return render_template("transcript.html", **_transcript_context(sender_id))


@bp.route("/conversaciones/<sender_id>/revision", methods=["POST"])
@requires("review")
def review(sender_id: str):
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    session = db()
    row = session.execute(select(ConsoleReview).where(ConsoleReview.sender_id == sender_id)).scalar_one_or_none()
    if row is None:
        row = ConsoleReview(sender_id=sender_id)
        session.add(row)
    row.tags = data.clean_tags(form.tags.data or "")
    row.note = (form.note.data or "").strip() or None
    row.reviewed = bool(form.reviewed.data)
    if row.reviewed:
        row.reviewed_up_to = session.execute(
            select(func.max(data.M.ts)).where(data.M.sender_id == sender_id, data.M.kind != "action")
        ).scalar() or utcnow()
        row.reviewed_by, row.reviewed_at = current_user.username, utcnow()
    else:
        row.reviewed_up_to = None
    flash("Revisión guardada.", "info")
    return redirect(url_for("console.transcript", sender_id=sender_id) + "#revision")


@bp.route("/conversaciones/<sender_id>/correccion/<int:event_id>", methods=["POST"])
@requires("review")
def correct(sender_id: str, event_id: int):
    form = CorrectionForm(prefix=f"c{event_id}")
    form.intent.choices = [(i, i) for i in data.domain_names()[0]]
    if not form.validate_on_submit() or form.event_id.data != event_id:
        if "csrf_token" in form.errors:
            abort(400)
        flash("Elija una intención de la lista.", "error")
        return redirect(url_for("console.transcript", sender_id=sender_id) + f"#m{event_id}")
    try:
        data.save_correction(db(), event_id=event_id, intent=form.intent.data,
                             entities_text=form.entities.data or "", username=current_user.username)
    except data.CorrectionError as error:
        db().rollback()
        context = _transcript_context(sender_id, correction_errors={event_id: str(error)})
        form.intent.choices = context["correction_forms"][event_id].intent.choices
        context["correction_forms"][event_id] = form
        return render_template("transcript.html", **context), 422
    flash("Corrección guardada; saldrá en la exportación para el entrenamiento.", "info")
    return redirect(url_for("console.transcript", sender_id=sender_id) + f"#m{event_id}")


@bp.route("/conversaciones/<sender_id>/responder", methods=["POST"])
@requires("reply")
def reply(sender_id: str):
    form = ReplyForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("Escriba el mensaje (máximo 1,500 caracteres).", "error")
        return render_template("transcript.html", **_transcript_context(sender_id, reply_form=form)), 422
    session = db()
    farmers = data.farmers_by_phone(session, [sender_id]).get(sender_id, [])
    medium = form.medium.data
    use_template = False
    if medium == "whatsapp" and not whatsapp_window_open(session, sender_id):
        if form.use_template.data and settings().whatsapp_template_sid:
            use_template = True
        else:
            flash("Este productor no ha escrito por WhatsApp en las últimas 24 horas: WhatsApp no "
                  "permite enviarle texto libre. Envíe el mensaje por SMS"
                  + (" o con la plantilla aprobada." if settings().whatsapp_template_sid else "."),
                  "warning")
            form.medium.data = "sms"
            return render_template("transcript.html", **_transcript_context(sender_id, reply_form=form)), 409
    try:
        request_id = int(form.human_request_id.data) if form.human_request_id.data else None
    except ValueError:
        request_id = None
    if request_id is not None:
        linked = session.get(HumanRequest, request_id)
        if linked is None or linked.phone != sender_id:
            request_id = None  # only a request of this same phone
    session.commit()
    outcome = send_reply(
        _short_session, phone=sender_id, medium=medium, body=form.body.data.strip(),
        user_id=current_user.id, username=current_user.username,
        farmer_id=farmers[0].id if len(farmers) == 1 else None, human_request_id=request_id,
        content_sid=settings().whatsapp_template_sid if use_template else None,
    )
    if request_id and outcome.status in ("sent", "pending"):
        human = session.get(HumanRequest, request_id)
        if human.status == "open":
            human.status = "in_progress"
            human.assigned_to = human.assigned_to or current_user.username
    flash(outcome.message, "info" if outcome.status == "sent" else "warning")
    return redirect(url_for("console.transcript", sender_id=sender_id) + "#responder")


# --- corrections export -------------------------------------------------------------------------

@bp.route("/correcciones")
@requires("review")
def corrections():
    rows = db().execute(select(ConsoleCorrection).order_by(ConsoleCorrection.corrected_at.desc())
                        .limit(500)).scalars().all()
    return render_template("corrections.html", title="Correcciones para entrenamiento", rows=rows,
                           preview=data.corrections_yaml(db()))


@bp.route("/correcciones/nlu_correcciones.yml")
@requires("review")
def export_corrections():
    body = data.corrections_yaml(db())
    stamp = utcnow().strftime("%Y%m%d")
    return Response(body, mimetype="application/x-yaml", headers={
        "Content-Disposition": f'attachment; filename="nlu_correcciones_{stamp}.yml"'})


# --- handover queue -----------------------------------------------------------------------------

def _staff_choices():
    names = db().execute(select(ConsoleUser.username).where(
        ConsoleUser.active.is_(True), ConsoleUser.role.in_(("officer", "admin"))
    ).order_by(ConsoleUser.username)).scalars().all()
    return [("", "sin asignar")] + [(n, n) for n in names]


@bp.route("/atencion")
def queue():
    status = request.args.get("estado", "pendientes")
    query = select(HumanRequest).order_by(HumanRequest.created_at)
    if status == "pendientes":
        query = query.where(HumanRequest.status.in_(("open", "in_progress")))
    elif status in ("open", "in_progress", "closed"):
        query = query.where(HumanRequest.status == status)
    mine = bool(request.args.get("mias"))
    if mine:
        query = query.where(HumanRequest.assigned_to == current_user.username)
    rows = db().execute(query.limit(500)).scalars().all()
    farmers = {f.id: f for f in db().execute(select(Farmer).where(
        Farmer.id.in_([r.farmer_id for r in rows if r.farmer_id]))).scalars()}
    first_reply = {}
    for r in rows:
        first_reply[r.id] = db().execute(select(func.min(ConsoleReply.created_at)).where(
            ConsoleReply.phone == r.phone, ConsoleReply.created_at >= r.created_at,
            ConsoleReply.status != "failed")).scalar()
    forms = {}
    choices = _staff_choices()
    for r in rows:
        form = HandoverForm(formdata=None, prefix=f"h{r.id}")
        form.assigned_to.choices = choices
        form.assigned_to.data = r.assigned_to or ""
        form.status.data = r.status
        forms[r.id] = form
    audit(db(), current_user, "view_queue", detail=f"{len(rows)} solicitudes")
    return render_template("queue.html", title="Atención por personas", rows=rows, farmers=farmers,
                           forms=forms, status=status, mine=mine, first_reply=first_reply)


@bp.route("/atencion/<int:request_id>", methods=["POST"])
@requires("edit")
def update_request(request_id: int):
    row = db().get(HumanRequest, request_id) or abort(404)
    form = HandoverForm(prefix=f"h{request_id}")
    form.assigned_to.choices = _staff_choices()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("Elija un responsable y un estado válidos.", "error")
        return redirect(url_for("console.queue"))
    row.assigned_to = form.assigned_to.data or None
    if form.status.data == "closed" and row.status != "closed":
        row.closed_at = utcnow()
    elif form.status.data != "closed":
        row.closed_at = None
    row.status = form.status.data
    flash("Solicitud actualizada.", "info")
    if request.form.get("back") == "transcript":
        return redirect(url_for("console.transcript", sender_id=row.phone) + "#atencion")
    return redirect(url_for("console.queue"))


# --- program records ----------------------------------------------------------------------------

def _paginate(query, count_query, page_size: int):
    total = db().execute(count_query).scalar() or 0
    page = max(1, min(_page_arg(), max(1, ceil(total / page_size))))
    rows = db().execute(query.limit(page_size).offset((page - 1) * page_size)).scalars().all()
    return data.Page(rows, total, page, page_size)


@bp.route("/productores")
def farmers():
    q = request.args.get("q", "").strip()[:100]
    query = select(Farmer).options(selectinload(Farmer.phones), selectinload(Farmer.organisation))
    count = select(func.count(Farmer.id))
    if q:
        ids = [fid for fid, name, folio in db().execute(select(Farmer.id, Farmer.name, Farmer.folio))
               if plain(q) in plain(name) or plain(q) in plain(folio)]
        phone = data.normalise_query_phone(q)
        digits = "".join(ch for ch in q if ch.isdigit())
        if phone or len(digits) >= 4:
            ids += db().execute(select(FarmerPhone.farmer_id).where(
                FarmerPhone.phone.like(f"%{(phone or digits)[-10:]}%"))).scalars().all()
        query = query.where(Farmer.id.in_(ids or [-1]))
        count = count.where(Farmer.id.in_(ids or [-1]))
    page = _paginate(query.order_by(Farmer.name, Farmer.id), count, settings().page_size)
    audit(db(), current_user, "list_farmers", detail=f"página {page.page}; {page.total} resultados")
    args = {k: v for k, v in request.args.items() if k != "pagina"}
    return render_template("farmers.html", title="Productores", page=page, q=q, args=args)


@bp.route("/productores/<int:farmer_id>")
def farmer(farmer_id: int):
    session = db()
    row = session.get(Farmer, farmer_id) or abort(404)
    deliveries = session.execute(select(Delivery).where(Delivery.farmer_id == farmer_id)
                                 .order_by(Delivery.delivered_on.desc())).scalars().all()
    invoices = session.execute(select(Invoice).where(Invoice.farmer_id == farmer_id)
                               .order_by(Invoice.issued_on.desc())).scalars().all()
    enrolments = session.execute(select(Enrolment).options(selectinload(Enrolment.training))
                                 .where(Enrolment.farmer_id == farmer_id)
                                 .order_by(Enrolment.created_at.desc())).scalars().all()
    requests_ = session.execute(select(HumanRequest).where(HumanRequest.farmer_id == farmer_id)
                                .order_by(HumanRequest.created_at.desc())).scalars().all()
    audit(session, current_user, "view_farmer", farmer_id=farmer_id, detail=row.folio)
    if current_user.can("amounts") and invoices:
        audit(session, current_user, "view_payments", farmer_id=farmer_id,
              detail=",".join(i.folio for i in invoices))
    return render_template("farmer.html", title=row.name, farmer=row, deliveries=deliveries,
                           invoices=invoices, enrolments=enrolments, requests=requests_)


@bp.route("/facturas")
def invoices():
    q = request.args.get("q", "").strip()[:100]
    status = request.args.get("estado", "")
    query = select(Invoice).options(selectinload(Invoice.farmer))
    count = select(func.count(Invoice.id))
    conds = []
    if status in INVOICE_STATUSES:
        conds.append(Invoice.status == status)
    if q:
        farmer_ids = [fid for fid, name, folio in db().execute(select(Farmer.id, Farmer.name, Farmer.folio))
                      if plain(q) in plain(name) or plain(q) in plain(folio)]
        conds.append(or_(func.lower(Invoice.folio).like(f"%{q.lower()}%"),
                         Invoice.farmer_id.in_(farmer_ids or [-1])))
    query, count = query.where(*conds), count.where(*conds)
    page = _paginate(query.order_by(Invoice.issued_on.desc(), Invoice.id.desc()), count,
                     settings().page_size)
    audit(db(), current_user, "view_payments" if current_user.can("amounts") else "list_invoices",
          detail=",".join(i.folio for i in page.rows)[:2000] or None)
    args = {k: v for k, v in request.args.items() if k != "pagina"}
    return render_template("invoices.html", title="Facturas", page=page, q=q, status=status,
                           args=args, statuses=INVOICE_STATUSES)


@bp.route("/capacitaciones")
def trainings():
    when = request.args.get("cuando", "proximas")
    query = select(Training)
    count = select(func.count(Training.id))
    now = utcnow()
    if when == "proximas":
        query, count = query.where(Training.starts_at >= now), count.where(Training.starts_at >= now)
        query = query.order_by(Training.starts_at)
    else:
        query = query.order_by(Training.starts_at.desc())
    page = _paginate(query, count, settings().page_size)
    args = {k: v for k, v in request.args.items() if k != "pagina"}
    return render_template("trainings.html", title="Capacitaciones", page=page, when=when, args=args)


@bp.route("/capacitaciones/<int:training_id>")
def training(training_id: int):
    row = db().get(Training, training_id) or abort(404)
    enrolments = db().execute(select(Enrolment).options(selectinload(Enrolment.farmer))
                              .where(Enrolment.training_id == training_id)
                              .order_by(Enrolment.status, Enrolment.created_at)).scalars().all()
    audit(db(), current_user, "view_enrolments", detail=row.code)
    return render_template("training.html", title=row.title, training=row, enrolments=enrolments)


# --- CSV upload ---------------------------------------------------------------------------------

@bp.route("/importar", methods=["GET", "POST"])
@requires("edit")
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            flash("El archivo no está en UTF-8. Guárdelo como «CSV UTF-8» y vuelva a subirlo.", "error")
            return render_template("upload.html", title="Importar CSV", form=form), 422
        row = ConsoleUpload(kind=form.kind.data, filename=(form.file.data.filename or "")[:200],
                            content=content, username=current_user.username)
        db().add(row)
        db().flush()
        return redirect(url_for("console.upload_preview", upload_id=row.id))
    if request.method == "POST" and "csrf_token" in form.errors:
        abort(400)
    return render_template("upload.html", title="Importar CSV", form=form)


@bp.route("/importar/<int:upload_id>")
@requires("edit")
def upload_preview(upload_id: int):
    row = db().get(ConsoleUpload, upload_id) or abort(404)
    report = csv_import.read_csv(row.kind, row.content)
    return render_template("upload_preview.html", title="Vista previa de la importación", upload=row,
                           report=report, form=ApplyUploadForm())


@bp.route("/importar/<int:upload_id>/aplicar", methods=["POST"])
@requires("edit")
def upload_apply(upload_id: int):
    form = ApplyUploadForm()
    if not form.validate_on_submit():
        abort(400)
    row = db().get(ConsoleUpload, upload_id) or abort(404)
    if row.applied_at is not None:
        flash("Este archivo ya se aplicó.", "warning")
        return redirect(url_for("console.upload_preview", upload_id=upload_id))
    report = csv_import.read_csv(row.kind, row.content)
    if not report.ok:
        flash("El archivo tiene filas con error: no se aplicó nada.", "error")
        return redirect(url_for("console.upload_preview", upload_id=upload_id))
    session = current_app.extensions["console_sessions"]()
    try:
        count = csv_import.apply(session, report)
        session.commit()
    except (csv_import.RowError, SQLAlchemyError) as error:
        session.rollback()
        reason = str(error) if isinstance(error, csv_import.RowError) else "la base de datos lo rechazó"
        flash(f"No se aplicó nada: {reason}.", "error")
        return redirect(url_for("console.upload_preview", upload_id=upload_id))
    finally:
        session.close()
    row.applied_at, row.applied_rows = utcnow(), count
    audit(db(), current_user, "import_csv", detail=f"{row.kind}: {count} filas ({row.filename})")
    flash(f"Listo: se aplicaron {count} filas.", "info")
    return redirect(url_for("console.invoices" if row.kind == "invoices" else "console.trainings"))


# --- dashboard ----------------------------------------------------------------------------------

@bp.route("/panel")
def dashboard():
    _sync()
    today = data.local(utcnow(), settings().timezone).date()
    day_to = _date_arg("hasta") or today
    day_from = _date_arg("desde") or day_to - timedelta(days=29)
    if day_from > day_to:
        day_from, day_to = day_to, day_from
    if (day_to - day_from).days > 366:
        day_from = day_to - timedelta(days=366)
    d = data.dashboard(db(), day_from, day_to, settings().timezone)
    labels = [f"{x.day}/{x.month}" for x in d.days]
    share_total = d.user_messages
    rendered = {
        "per_day": charts.stacked_bars("Mensajes por día y por medio", labels, d.per_day,
                                       {"whatsapp": "WhatsApp", "sms": "SMS", "otro": "Otro"}),
        "intents": charts.hbars("Intenciones más frecuentes", d.top_intents),
        "fallback": charts.share_bar("Mensajes no entendidos o fuera de tema",
                                     min(share_total, d.fallbacks + d.out_of_scope), share_total,
                                     "No entendidos o fuera de tema", "Entendidos"),
        "replies": charts.hbars("Tiempo hasta la primera respuesta de una persona", d.reply_buckets,
                                color="#6b4c9a"),
        "failures": charts.stacked_bars("Mensajes con falla de entrega por día", labels,
                                        {"fallas": d.delivery_failures_per_day},
                                        {"fallas": "Fallas de entrega"}, width=560, height=220),
    }
    return render_template("dashboard.html", title="Panel", d=d, charts=rendered,
                           day_from=day_from, day_to=day_to)


# --- accounts and audit (admin) -----------------------------------------------------------------

@bp.route("/cuentas", methods=["GET", "POST"])
@requires("accounts")
def accounts():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            create_user(db(), form.username.data, form.role.data, form.password.data)
            audit(db(), current_user, "create_account", detail=form.username.data)
            flash("Cuenta creada.", "info")
            return redirect(url_for("console.accounts"))
        except AccountError as error:
            db().rollback()
            flash(str(error), "error")
    elif request.method == "POST" and "csrf_token" in form.errors:
        abort(400)
    users = db().execute(select(ConsoleUser).order_by(ConsoleUser.username)).scalars().all()
    edit_forms = {}
    for u in users:
        edit = EditUserForm(formdata=None, prefix=f"u{u.id}", role=u.role, active=u.active)
        edit_forms[u.id] = edit
    return render_template("accounts.html", title="Cuentas del personal", form=form, users=users,
                           edit_forms=edit_forms)


@bp.route("/cuentas/<int:user_id>", methods=["POST"])
@requires("accounts")
def edit_account(user_id: int):
    user = db().get(ConsoleUser, user_id) or abort(404)
    form = EditUserForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
        flash("No puede quitarse a sí mismo el rol de administración ni desactivar su cuenta.", "error")
        return redirect(url_for("console.accounts"))
    user.role, user.active = form.role.data, bool(form.active.data)
    if form.password.data:
        try:
            set_password(user, form.password.data)
        except AccountError as error:
            db().rollback()
            flash(str(error), "error")
            return redirect(url_for("console.accounts"))
    audit(db(), current_user, "edit_account", detail=user.username)
    flash("Cuenta actualizada.", "info")
    return redirect(url_for("console.accounts"))


@bp.route("/auditoria")
@requires("accounts")
def audit_log():
    query = select(ConsoleAudit).order_by(ConsoleAudit.at.desc(), ConsoleAudit.id.desc())
    count = select(func.count(ConsoleAudit.id))
    page = _paginate(query, count, 100)
    return render_template("audit.html", title="Registro de accesos", page=page, args={})
