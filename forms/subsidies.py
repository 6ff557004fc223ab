"""Forms of interest subsidies (app/subsidies): the application, the three review steps of
bpmn/interest_subsidy.bpmn, budget allocations and guarantee-fee subsidy records."""
from __future__ import annotations

from wtforms import DecimalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.i18n import _l
from forms.fields import Form
from forms.validators import fen_amount


def _money(label):
    return DecimalField(label, places=2, validators=[InputRequired(_l("请填写金额")), fen_amount()])


class SubsidyApplyForm(Form):
    loan_id = SelectField(_l("贷款"), coerce=int, validators=[InputRequired(_l("请选择贷款"))])
    programme = SelectField(_l("贴息项目"), validators=[InputRequired(_l("请选择贴息项目"))])
    period = StringField(_l("贴息期间（如 2025-03、2025Q1 或 2025，按项目规定）"),
                         validators=[DataRequired(_l("请填写期间")), Length(max=7)])
    interest_paid = _money(_l("本期实付利息（元）"))
    principal = _money(_l("计息本金（元）"))
    note = TextAreaField(_l("说明（可选）"), validators=[Optional(), Length(max=2000)])


class SubsidyBankConfirmForm(Form):
    decision = RadioField(_l("确认结论"), choices=[("confirm", _l("确认实付利息")), ("reject", _l("不予确认"))],
                          validators=[InputRequired(_l("请选择结论"))])
    interest_paid = DecimalField(_l("银行确认的本期实付利息（元）"), places=2, validators=[Optional(), fen_amount()])
    principal = DecimalField(_l("银行确认的计息本金（元）"), places=2, validators=[Optional(), fen_amount()])
    opinion = TextAreaField(_l("确认意见"), validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class SubsidyReviewForm(Form):
    decision = RadioField(_l("审核结论"), choices=[("approve", _l("同意")), ("reject", _l("不同意"))],
                          validators=[InputRequired(_l("请选择结论"))])
    opinion = TextAreaField(_l("审核意见"), validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class SubsidyFinanceForm(Form):
    decision = RadioField(_l("审核结论"), choices=[("approve", _l("同意，从贴息预算拨付")), ("reject", _l("不同意"))],
                          validators=[InputRequired(_l("请选择结论"))])
    opinion = TextAreaField(_l("审核意见"), validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class BudgetAllocationForm(Form):
    amount = _money(_l("下达金额（元）"))
    memo = StringField(_l("预算文件或来源"), validators=[DataRequired(_l("请写明预算文件或来源")), Length(max=500)])
    token = HiddenField()


class GuaranteeFeeForm(Form):
    loan_no = StringField(_l("贷款编号"), validators=[DataRequired(_l("请填写贷款编号")), Length(max=30)])
    period = StringField(_l("期间（2025、2025Q1 或 2025-03）"), validators=[DataRequired(_l("请填写期间")), Length(max=7)])
    fee_paid = _money(_l("实付担保费（元）"))
    amount = _money(_l("补贴金额（元）"))
    note = StringField(_l("依据或说明"), validators=[Optional(), Length(max=500)])
