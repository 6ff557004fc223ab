"""Forms of the administrators' instance operations (app/workflow/cockpit_views.py)."""
from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from app.core.i18n import _l
from forms.fields import Form


class ActionForm(Form):
    """A button with its CSRF token only (retry)."""


class CancelForm(Form):
    reason = TextAreaField(_l("取消原因"), validators=[DataRequired(_l("请填写取消原因")), Length(max=1000)])


class MigrateForm(Form):
    spec_id = SelectField(_l("目标版本"), coerce=int, validators=[InputRequired(_l("请选择目标版本"))])


class DataForm(Form):
    key = StringField(_l("数据名"), validators=[
        DataRequired(_l("请填写数据名")), Length(max=64),
        Regexp(r"^[A-Za-z][A-Za-z0-9_]*$", message=_l("数据名须以字母开头，只含字母、数字和下划线"))])
    value = StringField(_l("值（文本、数字、true/false、null）"), validators=[Length(max=2000)])


class ResolveForm(Form):
    note = TextAreaField(_l("处理说明"), validators=[DataRequired(_l("请填写处理说明")), Length(max=1000)])
