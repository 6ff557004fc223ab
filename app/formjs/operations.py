"""Submitting a task shown with a deployed form-js form: validate, complete the task, record it."""
from __future__ import annotations

from flask_babel import force_locale

from app.core import audit
from app.core.errors import DomainError
from app.core.i18n import _, get_locale
from app.core.timeutil import today
from app.formjs import validate
from app.formjs.schema import MULTI_TYPES, Field
from app.workflow import engine, forms
from app.workflow.models import HumanTask


class FormInvalid(DomainError):
    """The submission breaks the form's rules: one message per field id; nothing was stored."""

    def __init__(self, checked: validate.Checked):
        super().__init__(_("请按提示修改后再提交"))
        self.checked = checked


def _shown(f: Field, value, locale: str) -> str:
    with force_locale(locale):
        if value is None or value == []:
            return "—"
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if f.type in MULTI_TYPES:
            return _("、").join(f.option_label(x, locale) for x in value)
        if f.options:
            return f.option_label(value, locale)
        return str(value)


def timeline_fields(fields: list[Field], values: dict) -> list[dict]:
    """What the timeline shows of a submission, in both languages (labels in the form are data)."""
    out = []
    for f in fields:
        if f.key in values:
            out.append({"key": f.key, "label": f.text("zh"), "label_en": f.text("en"),
                        "value": _shown(f, values[f.key], "zh"), "value_en": _shown(f, values[f.key], "en")})
    return out


def submit(human_task: HumanTask, user, formdata) -> engine.StepResult:
    """Validate ``formdata`` against the task's form version; when valid, its values become task data
    (the task completes and the process moves on) and the submission is on the subject's timeline.
    Raises :class:`FormInvalid` (nothing stored) or a :class:`engine.WorkflowError`."""
    artifact = forms.artifact_for(human_task)
    if artifact is None:
        raise engine.TaskNotAvailable(_("该待办的表单尚未部署，无法办理"))
    fields = forms.schema_of(artifact).fields
    checked = validate.check(fields, formdata, today(), get_locale())
    if checked.errors:
        raise FormInvalid(checked)
    result = engine.complete(human_task.id, user, checked.values)
    audit.record(human_task.subject_type, human_task.subject_id, "form_submitted", user,
                 details={"task": human_task.name, "bpmn_id": human_task.bpmn_id, "form": artifact.form_id,
                          "form_version": artifact.version, "fields": timeline_fields(fields, checked.values)})
    return result
