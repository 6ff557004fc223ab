from decimal import Decimal

from forms.fields import Form
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.i18n import _l
from app.policies.params import RATINGS
from forms.validators import fen_amount


class ApplicationForm(Form):
    scheme_id = SelectField(_l("风险补偿政策"), coerce=int, validators=[InputRequired(_l("请选择政策"))])
    sector_id = SelectField(_l("所属行业"), coerce=int, validators=[InputRequired(_l("请选择所属行业"))])
    amount = DecimalField(_l("申请金额（元）"), places=2, validators=[
        InputRequired(_l("请填写申请金额")), fen_amount(max_value=Decimal("100000000000"))])
    term_months = IntegerField(_l("期限（月）"), validators=[
        InputRequired(_l("请填写期限")), NumberRange(1, 360, _l("期限应在 1 到 360 个月之间"))])
    activity = SelectField(_l("贷款用途类别"), validators=[DataRequired()], choices=[
        ("working_capital", _l("流动资金周转")), ("equipment", _l("设备购置与技术改造")),
        ("general", _l("一般生产经营")), ("real_estate_development", _l("房地产开发")),
        ("futures", _l("期货投资"))])
    purpose = TextAreaField(_l("贷款用途说明"), validators=[
        DataRequired(_l("请填写贷款用途")), Length(max=2000)])
    repayment_plan = TextAreaField(_l("还款计划"), validators=[DataRequired(_l("请填写还款计划")), Length(max=2000)])
    repayment_source = TextAreaField(_l("还款资金来源"), validators=[
        DataRequired(_l("请填写还款资金来源")), Length(max=2000)])
    preferred_bank_id = SelectField(_l("意向银行（可选）"), coerce=int, validators=[Optional()])
    credit_rating = SelectField(_l("企业信用等级"), validators=[Optional()], choices=[
        ("", _l("未评级"))] + [(r, r) for r in RATINGS])   # one scale everywhere (app/policies/params.py)
    first_loan = BooleanField(_l("首次获得银行贷款（首贷）"), default=True)
    business_licence = MultipleFileField(_l("营业执照（PDF/JPG/PNG）"))
    financial_statements = MultipleFileField(_l("财务报表（PDF/JPG/PNG）"))
    consent_bank_id = SelectField(_l("授权查询信用信息的银行"), coerce=int,
                                  validators=[InputRequired(_l("请选择授权银行"))])
    consent_purpose = StringField(_l("授权用途"), default=_l("贷前调查及贷后管理"), validators=[Length(max=300)])
    consent_valid_until = DateField(_l("授权有效期至"), validators=[InputRequired(_l("请填写授权有效期"))])
    consent_agree = BooleanField(_l("本企业书面授权上述银行通过信用信息平台查询本企业信用信息"),
                                 validators=[DataRequired(_l("提交申请须同意授权银行查询信用信息"))])
