
from forms.fields import Form
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, DecimalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.i18n import _l
from forms.validators import decimal_range, fen_amount


class DepartmentReviewForm(Form):
    decision = RadioField(_l("审核结论"), choices=[
        ("recommend", _l("推荐至合作银行")), ("return", _l("退回补充材料")), ("reject", _l("不予推荐"))],
        validators=[InputRequired(_l("请选择审核结论"))])
    bank_id = SelectField(_l("推荐银行"), coerce=int, validators=[Optional()])
    opinion = TextAreaField(_l("书面意见（经营状况、信用状况、行业支持方向）"),
                            validators=[DataRequired(_l("请填写审核意见")), Length(max=4000)])


class EnterpriseSupplementForm(Form):
    note = TextAreaField(_l("补充说明"), validators=[Length(max=4000)])
    files = MultipleFileField(_l("补充材料（PDF/JPG/PNG）"))


class BankDueDiligenceForm(Form):
    decision = RadioField(_l("贷款决定"), choices=[("approve", _l("批准贷款")), ("decline", _l("不予贷款"))],
                          validators=[InputRequired(_l("请选择贷款决定"))])
    opinion = TextAreaField(_l("贷前调查意见"), validators=[Length(max=4000)])
    contract_no = StringField(_l("借款合同编号"), validators=[Optional(), Length(max=60)])
    amount = DecimalField(_l("贷款金额（元）"), places=2, validators=[Optional(), fen_amount()])
    annual_rate = DecimalField(_l("年利率（%）"), places=4, validators=[
        Optional(), decimal_range("0.0001", "36", _l("年利率应在 0 到 36% 之间"))])
    term_months = IntegerField(_l("期限（月）"), validators=[Optional(), NumberRange(1, 360)])
    disbursed_on = DateField(_l("放款日期"), validators=[Optional()])
    product = SelectField(_l("贷款产品"), validators=[Optional()])
    joint_guarantee = BooleanField(_l("企业实际控制人提供连带责任保证"))
    secured = BooleanField(_l("贷款有抵押或第三方担保（非纯信用）"))
    term_reason = TextAreaField(_l("期限长于一般期限的理由"), validators=[Length(max=2000)])
    outside_scheme = BooleanField(_l("政策外自担风险发放（不享受风险补偿）"))
    reason = TextAreaField(_l("不予贷款原因（将告知企业）"), validators=[Length(max=4000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data == "approve":
            for f in (self.contract_no, self.amount, self.annual_rate, self.term_months, self.disbursed_on,
                      self.product):
                if f.data in (None, ""):
                    f.errors = list(f.errors) + [str(_l("批准贷款时必填"))]
                    ok = False
        elif self.decision.data == "decline" and not (self.reason.data or "").strip():
            self.reason.errors = list(self.reason.errors) + [str(_l("拒绝贷款必须说明原因"))]
            ok = False
        return ok


class FilingAckForm(Form):
    note = TextAreaField(_l("备案意见"), validators=[Length(max=2000)])
