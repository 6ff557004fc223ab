"""Forms of the performance-evaluation pages (app/performance/views.py)."""
from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.i18n import _l
from forms.fields import Form


class ComputeForm(Form):
    scheme_id = SelectField(_l("政策"), coerce=int, validators=[DataRequired(message=_l("请选择政策"))])
    period = StringField(_l("评价年度"), validators=[DataRequired(message=_l("请填写评价年度")), Length(max=4)])


class ConfirmForm(Form):
    note = TextAreaField(_l("确认说明"), validators=[Optional(), Length(max=2000)])
