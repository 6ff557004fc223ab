"""Task pages of the recommended-list process (form keys named in bpmn/recommended_list.bpmn)."""
from __future__ import annotations

from app.core import audit
from app.core.db import db
from app.core.i18n import N_, _
from app.credit import recommended
from app.credit.models import ListNomination
from app.tasks.registry import TaskHandler, register
from forms.credit import CreditCheckForm, ListingForm, ListReviewForm, ResolveObjectionForm


def _context(ht, user):
    n = db.session.get(ListNomination, ht.subject_id)
    return {"n": n, "events": audit.timeline(recommended.SUBJECT, n.id),
            "materials": recommended.materials_of(n.id), "labels": recommended.MATERIALS,
            "resolve_form": ResolveObjectionForm()}


def _noop(form, ht, user):
    return None


def _review(form, ht, user, written):
    n = recommended.office_review(ht.id, user, form.decision.data, form.opinion.data)
    return _("已转信用核查") if n.status == "credit_check" else _("推荐未通过审核")


def _credit(form, ht, user, written):
    n = recommended.credit_check(ht.id, user, form.decision.data, form.opinion.data)
    if n.status == "publicity":
        return _("信用核查通过，公示至 {d}").format(d=n.notice_until.isoformat())
    return _("信用核查未通过")


def _listing(form, ht, user, written):
    n = recommended.listing(ht.id, user, form.decision.data, form.opinion.data)
    return _("已列入推荐名单") if n.status == "listed" else _("未列入推荐名单")


register(TaskHandler("list_office_review", ListReviewForm, N_("推荐名单审核"),
                     "credit/task_nomination.html", _noop, _context, _review))
register(TaskHandler("list_credit_check", CreditCheckForm, N_("推荐名单信用核查"),
                     "credit/task_nomination.html", _noop, _context, _credit))
register(TaskHandler("list_listing", ListingForm, N_("公示期满，决定是否列入推荐名单"),
                     "credit/task_nomination.html", _noop, _context, _listing))
