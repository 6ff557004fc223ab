from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.accounts import operations as ops
from app.accounts import sessions
from app.accounts.models import LoginAttempt, Organisation, Sector
from app.accounts.names import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from app.accounts.throttle import login_limits
from app.core import transaction
from app.core.db import db
from app.core.i18n import _, _l, localname
from app.core.redirects import safe_next, safe_referrer
from forms.fields import Form
from forms.validators import uscc

bp = Blueprint("accounts", __name__)


class LoginForm(Form):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名")),
                                                  Length(max=80, message=_l("用户名最多 80 个字符"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class RegisterForm(Form):
    firm_name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称")), Length(max=200)])
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码")), uscc])
    sector_id = SelectField(_l("所属行业"), coerce=int)
    legal_representative = StringField(_l("法定代表人"), validators=[DataRequired(_l("请填写法定代表人")), Length(max=80)])
    contact_phone = StringField(_l("联系电话"), validators=[DataRequired(_l("请填写联系电话")), Length(max=40)])
    business_scope = TextAreaField(_l("经营范围（按营业执照填写）"), validators=[Length(max=2000)])
    username = StringField(_l("登录用户名"), validators=[DataRequired(_l("请填写用户名")), Length(3, 80)])
    display_name = StringField(_l("经办人姓名"), validators=[DataRequired(_l("请填写经办人姓名")), Length(max=80)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请设置密码")),
                                                   Length(min=8, message=_l("密码至少 8 位"))])
    password2 = PasswordField(_l("确认密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


class PasswordChangeForm(Form):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码"))])
    password = PasswordField(_l("新密码"), validators=[
        DataRequired(_l("请设置新密码")),
        Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH,
               message=_l("密码长度须为 %(a)s–%(b)s 位", a=PASSWORD_MIN_LENGTH, b=PASSWORD_MAX_LENGTH))])
    confirm = PasswordField(_l("再次输入新密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


class VerificationForm(Form):
    opinion = TextAreaField(_l("意见"), validators=[Optional(), Length(max=500)])


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(_home_endpoint(current_user)))
    return redirect(url_for("accounts.login"))


def _home_endpoint(user) -> str:
    """Where a user lands: a firm on its applications (status and next step), an administrator on the
    tasks, every other organisation on its home page (today's work and the state of it, app/home)."""
    if user.is_kind("enterprise"):
        return "applications.index"
    return "tasks.queue" if user.is_kind("admin") else "home.index"


@bp.route("/login", methods=["GET", "POST"])
@login_limits
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with transaction.unit_of_work():   # the attempt is stored whatever the response (throttling)
            result = ops.attempt_login(form.username.data.strip(), form.password.data, request.remote_addr)
        if result.user:
            sessions.start(result.user)
            return redirect(safe_next(url_for(_home_endpoint(result.user))))
        g.login_failed = True            # counted by the login limits (app/accounts/throttle.py)
        flash(result.message, "danger")
    return render_template("accounts/login.html", form=form)


@bp.errorhandler(RateLimitExceeded)
def login_throttled(_exc):
    username = (request.form.get("username") or "")[:80]
    current_app.logger.warning("login throttled for %r from %s", username, request.remote_addr)
    with transaction.unit_of_work():   # a 429 rolls the request back; the attempt is kept
        db.session.add(LoginAttempt(username=username, success=False, remote_addr=request.remote_addr))
    form = LoginForm()
    form.username.data = (request.form.get("username") or "")[:80]
    form.username.errors = [_("登录失败次数过多，请稍后再试")]
    return render_template("accounts/login.html", form=form), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    ops.logout(current_user._get_current_object())
    logout_user()
    sessions.forget()
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            ops.change_password(user, form.current.data, form.password.data)
        except ops.AccountError as exc:
            transaction.rollback()
            getattr(form, exc.field).errors.append(str(exc))
        else:
            sessions.start(user)          # this session goes on; every other one has ended
            flash(_("密码已修改，其他设备上的登录已退出"), "success")
            return redirect(url_for("tasks.queue"))
    return render_template("accounts/password.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/account/pending")
@login_required
def pending():
    org = current_user.organisation
    if not current_user.is_kind("enterprise") or org.is_verified:
        return redirect(url_for("tasks.queue"))
    return render_template("accounts/pending.html", org=org)


@bp.route("/firms/verification")
@login_required
def verification():
    if not current_user.is_kind("department", "admin"):
        abort(403)
    return render_template("accounts/verification.html", firms=ops.firms_to_verify(current_user),
                           form=VerificationForm())


@bp.route("/firms/<int:org_id>/verification", methods=["POST"])
@login_required
def decide(org_id):
    org = db.session.get(Organisation, org_id)
    if org is None or not ops.can_verify(current_user, org):
        abort(404)
    form = VerificationForm()
    if not form.validate_on_submit():
        return render_template("accounts/verification.html", firms=ops.firms_to_verify(current_user),
                               form=form), 400
    verified = request.form.get("decision") == "verify"
    try:
        ops.decide_verification(current_user, org, verified, form.opinion.data)
    except ops.AccountError as exc:
        transaction.rollback()
        form.opinion.errors = list(form.opinion.errors) + [str(exc)]
        return render_template("accounts/verification.html", firms=ops.firms_to_verify(current_user),
                               form=form), 400
    flash((_("已认证 {name}") if verified else _("已不予认证 {name}")).format(name=org.name), "success")
    return redirect(url_for("accounts.verification"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    form.sector_id.choices = [(s.id, localname(s)) for s in db.session.scalars(select(Sector).order_by(Sector.id))]
    if form.validate_on_submit():
        try:
            user = ops.register_enterprise(
                firm_name=form.firm_name.data, uscc=form.uscc.data, sector_id=form.sector_id.data,
                legal_representative=form.legal_representative.data, contact_phone=form.contact_phone.data,
                business_scope=form.business_scope.data or "", username=form.username.data, display_name=form.display_name.data, password=form.password.data)
        except ops.AccountError as exc:
            transaction.rollback()
            getattr(form, exc.field).errors.append(str(exc)) if exc.field else flash(str(exc), "danger")
        else:
            sessions.start(user)
            flash(_("注册成功，请等待行业主管部门认证"), "success")
            return redirect(url_for("accounts.pending"))
    return render_template("accounts/register.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/lang/<code>")
def set_lang(code):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        ops.remember_language(current_user._get_current_object(), code)
    return redirect(safe_next(safe_referrer(url_for("accounts.index"))))
