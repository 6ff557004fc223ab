"""Forms of the fund pages and of the rectification process (bpmn/rectification.bpmn)."""
from __future__ import annotations

from forms.fields import Form
from flask_wtf.file import MultipleFileField
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.core.i18n import _l
from forms.validators import fen_amount

MAX_AMOUNT = 10 ** 12


class InflowForm(Form):
    """The finance bureau records money coming into the fund."""
    kind = SelectField(_l("资金类型"), validators=[InputRequired(_l("请选择资金类型"))])
    amount = DecimalField(_l("入账金额（元）"), places=2, validators=[Optional(), fen_amount(max_value=MAX_AMOUNT)])
    base_amount = DecimalField(_l("计提基数（元）：金融业税收形成的本级财政收入 / 银行年度信易贷利息收入"),
                               places=2, validators=[Optional(), fen_amount(max_value=MAX_AMOUNT)])
    bank_id = SelectField(_l("缴存银行"), coerce=int, validators=[Optional()])
    period = StringField(_l("所属期间（如 2025 或 2025Q3）"),
                         validators=[Optional(), Length(max=20),
                                     Regexp(r"^\d{4}([Qq][1-4]|-\d{2})?$", message=_l("期间格式如 2025、2025Q3 或 2025-07"))])
    voucher_no = StringField(_l("凭证号 / 到账单号"), validators=[
        DataRequired(_l("请填写凭证号（同一凭证号只入账一次）")), Length(max=60),
        Regexp(r"^[0-9A-Za-z\-_/]+$", message=_l("凭证号只能包含字母、数字和 - _ /"))])
    booked_on = DateField(_l("到账日期"), validators=[InputRequired(_l("请填写到账日期"))])
    memo = TextAreaField(_l("说明"), validators=[Length(max=1000)])


class ResumeForm(Form):
    reason = TextAreaField(_l("恢复业务的理由（如基金已补充、规模已调整）"),
                           validators=[DataRequired(_l("请填写恢复业务的理由")), Length(max=2000)])


class ReviewAckForm(Form):
    note = TextAreaField(_l("处理意见（如已提请调整基金规模）"),
                         validators=[DataRequired(_l("请填写处理意见")), Length(max=1000)])


class RectificationReportForm(Form):
    report = TextAreaField(_l("整改报告（原因分析、整改措施、不良贷款处置进展）"),
                           validators=[DataRequired(_l("请填写整改报告")), Length(max=8000)])
    files = MultipleFileField(_l("附件（PDF/JPG/PNG，可选）"))


class RectificationReviewForm(Form):
    decision = RadioField(_l("审核结论"), choices=[("approve", _l("认可整改，恢复业务")),
                                                   ("return", _l("退回，继续整改"))],
                          validators=[InputRequired(_l("请选择审核结论"))])
    opinion = TextAreaField(_l("审核意见"), validators=[DataRequired(_l("请填写审核意见")), Length(max=4000)])
