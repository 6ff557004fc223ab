"""Task page of the report duties (form key ``report_issue`` in bpmn/report_duty.bpmn): the period's report,
issued (archived) from here or from the report's own page; either way the duty is done."""
from __future__ import annotations

from app.core import audit
from app.core.i18n import N_, _
from app.duties import operations as duty_ops
from app.reports import operations as ops
from app.reports import render
from app.tasks.registry import TaskHandler, register
from forms.reports import ReportIssueForm


def _context(ht, user):
    duty = duty_ops.duty_of(ht)
    rtype, scheme, org = ops.report_of_duty(duty)
    ctx = {"duty": duty, "events": audit.timeline(duty_ops.SUBJECT, duty.id), "rtype": rtype,
           "org_id": org.id if org else 0, "summary": []}
    if rtype.kind != "monthly_statistics":
        t, _rep = ops.table_of(rtype, scheme, duty.period, org)
        ctx["summary"], ctx["notes"] = render.summary(t), render.notes(t)
    return ctx


def _submit(form, ht, user, written):
    duty = duty_ops.duty_of(ht)
    if user.organisation_id != duty.org_id:
        raise duty_ops.DutyError(_("只有任务所属单位可以办理"))
    rtype, scheme, org = ops.report_of_duty(duty)
    ops.issue(rtype, scheme, duty.period, org, user)
    return _("{period} 报表已报送并归档").format(period=duty.period)


register(TaskHandler("report_issue", ReportIssueForm, N_("编制并报送报表"), "duties/report_issue.html",
                     lambda f, h, u: None, _context, _submit))
