"""The generic task page of a form-js task (the task dispatcher in app/tasks/views.py calls it when a
form key has no registered page).

The page carries the form twice: plain HTML fields drawn on the server (what works without scripts, and
what the fuzz test crawls) and, for the browser, the localised schema for ``@bpmn-io/form-js-viewer``
(``static/formjs_task.js`` replaces the plain fields with the viewer and posts the same form-encoded
fields).  Either way the server validates against the task's form version (:mod:`app.formjs.validate`).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import audit, transaction
from app.core.i18n import _, _l, get_locale
from app.formjs import operations
from app.formjs.schema import MULTI_TYPES, localized
from app.workflow import engine, forms
from app.workflow.models import HumanTask

# the viewer's own texts (form-js writes them in English and asks its ``translate`` service)
VIEWER_TEXTS = {
    "Field is required.": _l("此项为必填项。"),
    "Field must have minimum value of {value}.": _l("不能小于 {value}。"),
    "Field must have maximum value of {value}.": _l("不能大于 {value}。"),
    "Field must have minimum length of {value}.": _l("至少 {value} 个字符。"),
    "Field must have maximum length of {value}.": _l("最多 {value} 个字符。"),
    "Field must match pattern {value}.": _l("格式不正确（应符合 {value}）。"),
    "Field must be a valid email.": _l("请输入有效的电子邮件地址。"),
    "Field must be a valid international phone number. (e.g. +4930664040900)":
        _l("请输入有效的国际电话号码（如 +8623xxxxxxxx）。"),
    "Value is not a number.": _l("请输入数字。"),
    "Value is expected to be an integer.": _l("请输入整数。"),
    "Value is expected to have at most 1 decimal digit.": _l("最多 1 位小数。"),
    "Value is expected to have at most {value} decimal digits.": _l("最多 {value} 位小数。"),
    "Please select a valid value, the two nearest valid values are {previousValue} and {nextValue}.":
        _l("请输入有效值，最接近的两个有效值是 {previousValue} 和 {nextValue}。"),
    "Date and time must both be entered.": _l("请同时填写日期和时间。"),
    "Search": _l("搜索"),
    "Skip to search": _l("跳到搜索"),
    "Remove tag": _l("移除标签"),
    "No results": _l("无匹配项"),
    "All values selected": _l("已全部选择"),
    "Increment": _l("增加"),
    "Decrement": _l("减少"),
}


def _viewer_data(fields, values: dict) -> dict:
    """Values as the viewer takes them (booleans for checkboxes, lists for multi-selects)."""
    out = {}
    for f in fields:
        if f.key not in values or values[f.key] in (None, ""):
            continue
        value = values[f.key]
        if f.type == "checkbox":
            value = value in (True, "true")
        elif f.type in MULTI_TYPES:
            value = [str(x) for x in value] if isinstance(value, list) else []
        elif f.type == "number" and not f.money:
            value = str(value)
        else:
            value = value if isinstance(value, (str, int, float)) else str(value)
        out[f.key] = value
    return out


def task_page(ht: HumanTask):
    artifact = forms.artifact_for(ht)
    if artifact is None:
        flash(_("该待办的表单尚未部署，无法办理"), "warning")
        return redirect(url_for("tasks.queue"))
    parsed = forms.schema_of(artifact)
    locale = get_locale()
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            operations.submit(ht, current_user, request.form)
            flash(_("已提交：{task}").format(task=_(ht.name) if ht.name else ""), "success")
            return redirect(url_for("tasks.queue"))
        except operations.FormInvalid as exc:
            transaction.rollback()
            errors, values, status = exc.checked.errors, exc.checked.submitted, 400
        except engine.WorkflowError as exc:
            transaction.rollback()
            flash(str(exc), "warning")
            return redirect(url_for("tasks.queue"))
    else:
        data = engine.task_data(ht)                 # a task met again shows what was entered before
        values = {f.key: data[f.key] for f in parsed.fields if f.key in data}
    return render_template(
        "tasks/formjs.html", task=ht, artifact=artifact, blocks=parsed.blocks, locale=locale,
        values=values, errors=errors, events=audit.timeline(ht.subject_type, ht.subject_id),
        schema=localized(parsed.raw, locale), viewer_data=_viewer_data(parsed.fields, values),
        viewer_errors={fid: [msg] for fid, msg in errors.items()},
        viewer_texts={k: str(t) for k, t in VIEWER_TEXTS.items()}), status
