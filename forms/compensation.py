"""Forms of the compensation process: the overdue report, recovery entries, and one per user task."""
from forms.fields import Form
from flask_wtf.file import MultipleFileField
from wtforms import (BooleanField, DateField, DecimalField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.core.i18n import _l
from forms.validators import fen_amount

CLASSIFICATION_CHOICES = [("normal", _l("正常")), ("special_mention", _l("关注")), ("substandard", _l("次级")),
                          ("doubtful", _l("可疑")), ("loss", _l("损失"))]


class OverdueReportForm(Form):
    overdue_on = DateField(_l("逾期日期"), validators=[InputRequired(_l("请填写逾期日期"))])
    overdue_principal = DecimalField(_l("逾期本金（元）"), places=2,
                                     validators=[InputRequired(_l("请填写逾期本金")), fen_amount()])
    classification = SelectField(_l("五级分类"), choices=CLASSIFICATION_CHOICES,
                                 validators=[InputRequired(_l("请选择五级分类"))])
    note = TextAreaField(_l("逾期情况说明"), validators=[Length(max=4000)])


class RecoveryForm(Form):
    kind = SelectField(_l("追偿方式"), choices=[("repayment", _l("企业还款")), ("collateral", _l("抵质押物处置")),
                                                ("court", _l("法院强制执行")), ("guarantor", _l("保证人代偿"))],
                       validators=[InputRequired(_l("请选择追偿方式"))])
    received_on = DateField(_l("入账日期"), validators=[InputRequired(_l("请填写入账日期"))])
    amount = DecimalField(_l("收回本金（元）"), places=2, validators=[InputRequired(_l("请填写金额")), fen_amount()])
    note = TextAreaField(_l("追偿措施说明"), validators=[Length(max=2000)])


class LitigationCostForm(Form):
    incurred_on = DateField(_l("发生日期"), validators=[InputRequired(_l("请填写日期"))])
    amount = DecimalField(_l("费用金额（元）"), places=2, validators=[InputRequired(_l("请填写金额")), fen_amount()])
    note = StringField(_l("费用内容（诉讼费、执行费、律师费等）"),
                       validators=[DataRequired(_l("请说明费用内容")), Length(max=300)])
    document = MultipleFileField(_l("费用凭证（发票、法院收费票据等，PDF/JPG/PNG）"))


class AdvanceDecisionForm(Form):
    decision = RadioField(_l("意见"), choices=[("approve", _l("同意")), ("refuse", _l("不同意"))],
                          validators=[InputRequired(_l("请选择意见"))])
    opinion = TextAreaField(_l("意见说明"), validators=[Length(max=4000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data == "refuse" and not (self.opinion.data or "").strip():
            self.opinion.errors = list(self.opinion.errors) + [str(_l("不同意先行代偿须说明理由"))]
            ok = False
        return ok


class AdvancePayForm(Form):
    note = TextAreaField(_l("拨付说明（凭证号等）"), validators=[Length(max=2000)])


class RecoveryCloseForm(Form):
    ended_on = DateField(_l("司法追偿结束日期"), validators=[InputRequired(_l("请填写司法追偿结束日期"))])
    note = TextAreaField(_l("追偿处置结果说明"), validators=[Length(max=4000)])


class ClaimForm(Form):
    classification = SelectField(_l("五级分类"), choices=CLASSIFICATION_CHOICES,
                                 validators=[InputRequired(_l("请选择五级分类"))])
    amount_recovered = DecimalField(_l("追偿金额（元）"), places=2,
                                    validators=[InputRequired(_l("请填写追偿金额")), fen_amount(min_value=0)])
    final_loss = DecimalField(_l("最终本金损失金额（元）"), places=2,
                              validators=[InputRequired(_l("请填写最终本金损失")), fen_amount(min_value=0)])
    claim_form = MultipleFileField(_l("风险补偿基金申请书"))
    loan_contract = MultipleFileField(_l("贷款合同"))
    recovery_receipts = MultipleFileField(_l("追偿款项入账凭证"))
    npl_proof = MultipleFileField(_l("不良贷款证明"))
    other = MultipleFileField(_l("其他材料"))
    note = TextAreaField(_l("申请说明"), validators=[Length(max=4000)])


class JointReviewForm(Form):
    decision = RadioField(_l("审核意见"), choices=[("approve", _l("同意补偿")), ("return", _l("退回银行补正")),
                                                   ("reject", _l("不予补偿"))],
                          validators=[InputRequired(_l("请选择审核意见"))])
    violation = BooleanField(_l("认定银行或其从业人员违反法律法规或内部管理制度（不属于补偿范围）"))
    opinion = TextAreaField(_l("签署意见"), validators=[Length(max=4000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data in ("return", "reject") and not (self.opinion.data or "").strip():
            self.opinion.errors = list(self.opinion.errors) + [str(_l("退回或不予补偿须写明理由"))]
            ok = False
        return ok


class PayoutLetterForm(Form):
    letter_no = StringField(_l("拨付函文号"), validators=[DataRequired(_l("请填写拨付函文号")), Length(max=60)])
    note = TextAreaField(_l("函件内容摘要"), validators=[Length(max=4000)])


class DisburseForm(Form):
    note = TextAreaField(_l("拨付说明（凭证号等）"), validators=[Length(max=2000)])



# ---- 凌源: the department's opinion and the yearly batch (办法 art.17)

class DeptOpinionForm(Form):
    decision = RadioField(_l("部门意见"), choices=[("agree", _l("同意报送")), ("return", _l("退回银行"))],
                          validators=[InputRequired(_l("请选择意见"))])
    opinion = TextAreaField(_l("签署意见"), validators=[DataRequired(_l("请填写部门意见")), Length(max=4000)])


class OpenBatchForm(Form):
    scheme_id = SelectField(_l("政策"), coerce=int, validators=[InputRequired(_l("请选择政策"))])
    year = IntegerField(_l("年度"), validators=[InputRequired(_l("请填写年度")), NumberRange(2000, 2100)])


class OfficeReviewForm(Form):
    doubtful = SelectMultipleField(_l("存在疑问、需核查的申请"), coerce=int, validate_choice=True)
    rejected = SelectMultipleField(_l("不符合条件的申请"), coerce=int, validate_choice=True)
    opinion = TextAreaField(_l("初审意见"), validators=[Length(max=4000)])


class VerifyForm(Form):
    failed = SelectMultipleField(_l("核查不属实的申请"), coerce=int, validate_choice=True)
    opinion = TextAreaField(_l("核查意见"), validators=[DataRequired(_l("请填写核查意见")), Length(max=4000)])


class BatchApproveForm(Form):
    excluded = SelectMultipleField(_l("不同意补偿的申请（不选即同意全部）"), coerce=int, validate_choice=True)
    opinion = TextAreaField(_l("审批意见"), validators=[Length(max=4000)])


class PublicityForm(Form):
    published_on = DateField(_l("公示开始日期"), validators=[InputRequired(_l("请填写公示开始日期"))])
    where = StringField(_l("公示渠道"), validators=[DataRequired(_l("请填写公示渠道（如政府门户网站）")),
                                                  Length(max=300)])


class PublicityCloseForm(Form):
    note = TextAreaField(_l("公示结果说明"), validators=[Length(max=4000)])


class BatchDisburseForm(Form):
    fund_manager = StringField(_l("会同办理的基金管理机构"),
                               validators=[DataRequired(_l("请填写会同办理的基金管理机构")), Length(max=200)])
    note = TextAreaField(_l("拨付说明（凭证号等）"), validators=[Length(max=2000)])


class ObjectionForm(Form):
    claim_id = SelectField(_l("异议涉及的申请"), coerce=int)
    received_on = DateField(_l("收到日期"), validators=[InputRequired(_l("请填写收到日期"))])
    objector = StringField(_l("异议人"), validators=[DataRequired(_l("请填写异议人")), Length(max=200)])
    content = TextAreaField(_l("异议内容"), validators=[DataRequired(_l("请填写异议内容")), Length(max=4000)])


class ObjectionResolveForm(Form):
    decision = RadioField(_l("处理结论"), choices=[("dismissed", _l("异议不成立")), ("upheld", _l("异议成立，该申请不予补偿"))],
                          validators=[InputRequired(_l("请选择处理结论"))])
    reason = TextAreaField(_l("处理理由"), validators=[DataRequired(_l("请写明处理理由")), Length(max=4000)])
