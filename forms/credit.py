"""Forms of the credit side: the recommended list (its process and the public 公示 page), blacklists,
persons of a firm."""
from __future__ import annotations

from flask_wtf.file import FileField, MultipleFileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.i18n import _l
from forms.fields import Form


class NominationForm(Form):
    scheme_id = SelectField(_l("政策"), coerce=int, validators=[InputRequired(_l("请选择政策"))])
    firm_id = SelectField(_l("企业"), coerce=int, validators=[InputRequired(_l("请选择企业"))])
    screening_opinion = TextAreaField(_l("筛选意见（符合条件：在本市注册、属中小微企业、符合产业方向）"),
                                      validators=[DataRequired(_l("请填写筛选意见")), Length(max=4000)])
    operations = TextAreaField(_l("生产经营情况说明（经营范围、主要产品、生产技术、职工人数等）"),
                               validators=[DataRequired(_l("请填写生产经营情况说明")), Length(max=8000)])
    loan_plan = TextAreaField(_l("贷款情况（贷款用途、还贷计划及资金来源）"),
                              validators=[DataRequired(_l("请填写贷款情况")), Length(max=8000)])
    licence = MultipleFileField(_l("营业执照（PDF/JPG/PNG）"))
    tax_proof = MultipleFileField(_l("依法纳税、无拖欠税款记录的证明"))
    credit_report = MultipleFileField(_l("企业信用报告"))
    other = MultipleFileField(_l("其他资料（可选）"))


class ListReviewForm(Form):
    decision = RadioField(_l("审核结论"), choices=[("approve", _l("通过，转信用核查")), ("reject", _l("不通过"))],
                          validators=[InputRequired(_l("请选择结论"))])
    opinion = TextAreaField(_l("审核意见"), validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class CreditCheckForm(Form):
    decision = RadioField(_l("信用核查结论"), choices=[("pass", _l("通过，进入公示")), ("fail", _l("不通过"))],
                          validators=[InputRequired(_l("请选择结论"))])
    opinion = TextAreaField(_l("核查意见（信用记录、信用报告等级、失信记录）"),
                            validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class ListingForm(Form):
    decision = RadioField(_l("是否列入推荐名单"), choices=[("list", _l("列入推荐名单")), ("reject", _l("不列入"))],
                          validators=[InputRequired(_l("请选择结论"))])
    opinion = TextAreaField(_l("意见（公示及异议处理情况）"),
                            validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class ObjectionForm(Form):
    """Anyone, on the public 公示 page."""
    name = StringField(_l("姓名或单位（可不填）"), validators=[Optional(), Length(max=80)])
    contact = StringField(_l("联系方式（电话或电子邮箱，用于告知处理结果）"),
                          validators=[DataRequired(_l("请留下联系方式")), Length(max=100)])
    text = TextAreaField(_l("异议内容和理由"), validators=[DataRequired(_l("请写明异议内容和理由")), Length(max=4000)])


class ResolveObjectionForm(Form):
    outcome = RadioField(_l("处理结果"), choices=[("upheld", _l("异议成立")), ("rejected", _l("异议不成立"))],
                         validators=[InputRequired(_l("请选择处理结果"))])
    reason = TextAreaField(_l("处理理由"), validators=[DataRequired(_l("请写明处理理由")), Length(max=4000)])


class ReasonForm(Form):
    reason = TextAreaField(_l("理由"), validators=[DataRequired(_l("请填写理由")), Length(max=4000)])


class BlacklistEntryForm(Form):
    subject = RadioField(_l("对象"), choices=[("firm", _l("企业")), ("person", _l("个人"))],
                         validators=[InputRequired(_l("请选择企业或个人"))], default="firm")
    firm_name = StringField(_l("企业名称"), validators=[Optional(), Length(max=200)])
    uscc = StringField(_l("统一社会信用代码"), validators=[Optional(), Length(max=18)])
    person_name = StringField(_l("姓名"), validators=[Optional(), Length(max=80)])
    id_number = StringField(_l("身份证号码（只保存脱敏号码）"), validators=[Optional(), Length(max=18)])
    source = SelectField(_l("来源"), validators=[InputRequired(_l("请选择来源"))])
    reason = TextAreaField(_l("列入原因"), validators=[DataRequired(_l("请填写列入原因")), Length(max=4000)])
    basis = TextAreaField(_l("依据（文书编号、决定）"), validators=[Optional(), Length(max=4000)])
    starts_on = DateField(_l("起始日期"), validators=[InputRequired(_l("请填写起始日期"))])
    expires_on = DateField(_l("截止日期（含；不填则按所选政策的年限或长期有效）"), validators=[Optional()])
    scheme_id = SelectField(_l("违反的政策（可选）"), coerce=int, validators=[Optional()])


class BlacklistImportForm(Form):
    file = FileField(_l("联合惩戒名单（.xlsx）"))


class AppealForm(Form):
    text = TextAreaField(_l("申诉理由"), validators=[DataRequired(_l("请写明申诉理由")), Length(max=4000)])


class AppealDecisionForm(Form):
    outcome = RadioField(_l("申诉处理"), choices=[("upheld", _l("申诉成立，移出黑名单")), ("rejected", _l("申诉不成立"))],
                         validators=[InputRequired(_l("请选择处理结果"))])
    reason = TextAreaField(_l("处理理由"), validators=[DataRequired(_l("请写明处理理由")), Length(max=4000)])


class ConfirmForm(Form):
    decision = RadioField(_l("确认"), choices=[("confirm", _l("确认列入")), ("decline", _l("不予列入"))],
                          validators=[InputRequired(_l("请选择"))])
    reason = TextAreaField(_l("意见"), validators=[DataRequired(_l("请填写意见")), Length(max=4000)])


class PersonForm(Form):
    role = SelectField(_l("身份"), validators=[InputRequired(_l("请选择人员身份"))])
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=80)])
    id_number = StringField(_l("身份证号码（只保存脱敏号码）"),
                            validators=[DataRequired(_l("请填写身份证号码")), Length(max=18)])


class ProposeForm(Form):
    reason = TextAreaField(_l("违反政策规定的事实（如提供虚假增信证明骗贷、恶意逃废债务）"),
                           validators=[DataRequired(_l("请写明事实")), Length(max=4000)])
    basis = TextAreaField(_l("依据"), validators=[Optional(), Length(max=4000)])


class CommitmentUploadForm(Form):
    file = FileField(_l("法定代表人签字、加盖公章的信用承诺书（PDF/JPG/PNG）"))


class CommitmentGenerateForm(Form):
    """Generating a commitment is a POST (it records one); no field but the token."""


class SourceUnitForm(Form):
    """An administrator sets the category of credit data a source unit reports (choices: the categories file)."""
    category = SelectField(_l("报送类别"), validators=[InputRequired(_l("请选择报送类别"))])
