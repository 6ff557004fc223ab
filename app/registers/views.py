"""Register pages: filters, sort, pages with the true count, and the Excel file of the filtered set.

``/applications/``, ``/loans/`` and ``/compensation/`` are these registers too (they call
:func:`render`); ``/registers/`` lists what the user may open with the number of rows of each.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import DomainError
from app.core.i18n import _
from app.core.exports import send_workbook
from app.core.timeutil import today
from app.registers import listing
from app.registers.definitions import REGISTERS
from app.registers.listing import EXPORT_MAX_ROWS, PER_PAGE_CHOICES

bp = Blueprint("registers", __name__, url_prefix="/registers")


def _register_or_404(name: str):
    register = REGISTERS.get(name)
    if register is None:
        abort(404)
    if not register.may_view(current_user):
        abort(403)
    return register


def render(name: str, endpoint: str | None = None, extra=None):
    """The register page; ``endpoint`` is the route it is shown at (its own by default); ``extra(rows)``
    gives more template values for the rows of the page (the applications' next step)."""
    register = _register_or_404(name)
    lst = listing.build(register, current_user, request.args)
    endpoint = endpoint or "registers.show"
    url_args = {} if endpoint != "registers.show" else {"name": name}

    def page_url(**over):
        return url_for(endpoint, **url_args, **lst.args(**over))

    def sort_url(key):
        return page_url(sort=key if lst.sort != key else f"-{key}", page=None)

    return render_template("registers/list.html", register=register, lst=lst, page_url=page_url,
                           sort_url=sort_url, form_action=url_for(endpoint, **url_args),
                           export_url=url_for("registers.export", name=name, **lst.args(per_page=None)),
                           per_page_choices=PER_PAGE_CHOICES, export_max=EXPORT_MAX_ROWS,
                           **(extra(lst.rows) if extra else {}))


@bp.route("/")
@login_required
def index():
    shown = [r for r in REGISTERS.values() if r.may_view(current_user)]
    if not shown:
        abort(403)
    counts = {r.name: listing.count(r, current_user) for r in shown}
    return render_template("registers/index.html", registers=shown, counts=counts)


@bp.route("/<name>")
@login_required
def show(name):
    return render(name)


@bp.route("/<name>.xlsx")
@login_required
def export(name):
    register = _register_or_404(name)
    lst = listing.build(register, current_user, request.args, paginate=False)
    if lst.errors:
        raise DomainError("；".join(lst.errors))
    if lst.total > EXPORT_MAX_ROWS:
        raise DomainError(_("筛选结果超过 {n} 条，请缩小筛选范围后再导出").format(n=EXPORT_MAX_ROWS))
    wb = listing.workbook(lst, str(register.title))
    return send_workbook(wb, f"{register.name}-{today():%Y%m%d}.xlsx")
