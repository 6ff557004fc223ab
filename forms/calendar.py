"""Forms of the administrator's working-day calendar."""
from forms.fields import Form
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from app.core.i18n import _l


class CalendarYearForm(Form):
    year = IntegerField(_l("年份"), validators=[InputRequired(_l("请填写年份")),
                                               NumberRange(2000, 2100, _l("年份应在 2000 到 2100 之间"))])


class CalendarDaysForm(Form):
    holidays = TextAreaField(_l("法定节假日（每行一天或一段：2027-02-06..2027-02-12 春节）"),
                             validators=[Length(max=5000)])
    workdays = TextAreaField(_l("调休上班日（周末上班，每行一天：2027-02-14 春节调休）"),
                             validators=[Length(max=2000)])


class CalendarCompleteForm(Form):
    note = StringField(_l("说明（如：依据国务院办公厅通知 国办发明电〔2026〕X号）"),
                       validators=[Length(max=300)])
