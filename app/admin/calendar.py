"""The administrator's working-day calendar: enter a year's holidays and adjusted working days,
and mark the year complete (app/core/workdays.py uses the entries over the library)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.admin.views import admin_required
from app.core import audit, transaction, workdays
from app.core.db import db
from app.core.i18n import _
from app.core.timeutil import parse_date, today
from forms.calendar import CalendarCompleteForm, CalendarDaysForm, CalendarYearForm

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")


@bp.route("/", methods=["GET", "POST"])
@admin_required
def index():
    form = CalendarYearForm()
    if form.validate_on_submit():
        return redirect(url_for("calendar.year", year=form.year.data))
    this = today().year
    lib = workdays.library_years()
    years = sorted({this - 1, this, this + 1, lib[-1]} |
                   {y.year for y in db.session.scalars(db.select(workdays.CalendarYear))} |
                   {d.day.year for d in db.session.scalars(db.select(workdays.CalendarDay))})
    rows = [workdays.year_status(y) for y in years]
    return render_template("admin/calendar_index.html", rows=rows, form=form, lib=lib), \
        (400 if form.is_submitted() else 200)


def _year_page(year, days_form=None, complete_form=None, status=200):
    if not 2000 <= year <= 2100:
        abort(404)
    return render_template("admin/calendar_year.html", year=year, st=workdays.year_status(year),
                           library=workdays.library_schedule(year),
                           days_form=days_form or CalendarDaysForm(),
                           complete_form=complete_form or CalendarCompleteForm(),
                           events=audit.timeline("calendar_year", year)), status


@bp.route("/<int:year>")
@admin_required
def year(year):
    return _year_page(year)


@bp.route("/<int:year>/days", methods=["POST"])
@admin_required
def enter(year):
    form = CalendarDaysForm()
    if form.validate_on_submit():
        try:
            rows = workdays.enter_days(year, current_user, form.holidays.data, form.workdays.data)
            flash(_("已录入 {n} 天").format(n=len(rows)), "success")
            return redirect(url_for("calendar.year", year=year))
        except workdays.CalendarEntryError as exc:
            transaction.rollback()
            f = getattr(form, exc.field or "holidays")
            f.errors = list(f.errors) + [str(exc)]
    return _year_page(year, days_form=form, status=400)


@bp.route("/<int:year>/days/<day>/delete", methods=["POST"])
@admin_required
def delete(year, day):
    d = parse_date(day)
    if d is None or d.year != year:
        abort(404)
    from flask_wtf import FlaskForm
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        workdays.remove_day(d, current_user)
        flash(_("已删除 {d} 的录入").format(d=d), "success")
    except workdays.CalendarEntryError as exc:
        transaction.rollback()
        flash(str(exc), "warning")
    return redirect(url_for("calendar.year", year=year))


@bp.route("/<int:year>/complete", methods=["POST"])
@admin_required
def complete(year):
    form = CalendarCompleteForm()
    if form.validate_on_submit():
        try:
            workdays.mark_complete(year, current_user, form.note.data)
            flash(_("{y} 年工作日历已标记为录入完成").format(y=year), "success")
            return redirect(url_for("calendar.year", year=year))
        except workdays.CalendarEntryError as exc:
            transaction.rollback()
            form.note.errors = list(form.note.errors) + [str(exc)]
    return _year_page(year, complete_form=form, status=400)


@bp.route("/<int:year>/reopen", methods=["POST"])
@admin_required
def reopen(year):
    from flask_wtf import FlaskForm
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        workdays.reopen_year(year, current_user)
        flash(_("{y} 年已撤销完成标记，可继续修改").format(y=year), "success")
    except workdays.CalendarEntryError as exc:
        transaction.rollback()
        flash(str(exc), "warning")
    return redirect(url_for("calendar.year", year=year))
