from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.accounts import operations as ops
from app.accounts.models import Sector
from app.core import transaction
from app.core.db import db
from app.core.i18n import _, _l, localname
from forms.validators import uscc

bp = Blueprint("accounts", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class RegisterForm(FlaskForm):
    firm_name = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称")), Length(max=200)])
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码")), uscc])
    sector_id = SelectField(_l("所属行业"), coerce=int)
    legal_representative = StringField(_l("法定代表人"), validators=[DataRequired(_l("请填写法定代表人")), Length(max=80)])
    contact_phone = StringField(_l("联系电话"), validators=[DataRequired(_l("请填写联系电话")), Length(max=40)])
    username = StringField(_l("登录用户名"), validators=[DataRequired(_l("请填写用户名")), Length(3, 80)])
    display_name = StringField(_l("经办人姓名"), validators=[DataRequired(_l("请填写经办人姓名")), Length(max=80)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请设置密码")),
                                                   Length(min=8, message=_l("密码至少 8 位"))])
    password2 = PasswordField(_l("确认密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("tasks.queue"))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with transaction.unit_of_work():   # the attempt is stored whatever the response (throttling), before the wait
            result = ops.attempt_login(form.username.data.strip(), form.password.data, request.remote_addr)
        if result.wait_seconds:
            time.sleep(min(result.wait_seconds, current_app.config.get("LOGIN_SLEEP_CAP", 2)))
        if result.user:
            login_user(result.user)
            return redirect(_safe_next() or url_for("tasks.queue"))
        flash(result.message, "danger")
    return render_template("accounts/login.html", form=form)


def _safe_next():
    nxt = request.args.get("next")
    if nxt and nxt.startswith("/") and not nxt.startswith("//"):
        return nxt
    return None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    return redirect(url_for("accounts.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    form.sector_id.choices = [(s.id, localname(s)) for s in db.session.scalars(select(Sector).order_by(Sector.id))]
    if form.validate_on_submit():
        try:
            user = ops.register_enterprise(
                firm_name=form.firm_name.data, uscc=form.uscc.data, sector_id=form.sector_id.data,
                legal_representative=form.legal_representative.data, contact_phone=form.contact_phone.data,
                username=form.username.data, display_name=form.display_name.data, password=form.password.data)
        except ops.AccountError as exc:
            transaction.rollback()
            getattr(form, exc.field).errors.append(str(exc)) if exc.field else flash(str(exc), "danger")
        else:
            login_user(user)
            flash(_("注册成功"), "success")
            return redirect(url_for("tasks.queue"))
    return render_template("accounts/register.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/lang/<code>")
def set_lang(code):
    from flask import session
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(_safe_next() or request.referrer or url_for("accounts.index"))
