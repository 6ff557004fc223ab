"""Forms of the administrator's pages (app/admin/views.py)."""
from __future__ import annotations

from forms.fields import Form
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, PasswordField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import (DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional,
                                Regexp)

from app.admin.operations import MIN_PASSWORD_LENGTH
from app.core.i18n import _l

CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"


class OrganisationForm(Form):
    kind = SelectField(_l("机构类型"), validators=[InputRequired(_l("请选择机构类型"))])
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称")), Length(max=200)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=200)])
    code = StringField(_l("代码（企业为统一社会信用代码，其他机构为简码，唯一）"),
                       validators=[Optional(), Length(max=40),
                                   Regexp(CODE_RE, message=_l("代码只能包含字母、数字、- 和 _"))])
    sector_ids = SelectMultipleField(_l("负责审核的行业（仅行业主管部门）"), coerce=int, validators=[Optional()])


class SectorForm(Form):
    code = StringField(_l("行业代码"), validators=[DataRequired(_l("请填写行业代码")), Length(max=40),
                                                 Regexp(CODE_RE, message=_l("代码只能包含字母、数字、- 和 _"))])
    name = StringField(_l("行业名称"), validators=[DataRequired(_l("请填写行业名称")), Length(max=80)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=80)])
    department_id = SelectField(_l("行业主管部门"), coerce=int, validators=[Optional()])


class UserForm(Form):
    username = StringField(_l("用户名"), validators=[
        DataRequired(_l("请填写用户名")), Length(min=3, max=80, message=_l("用户名应为 3 到 80 个字符")),
        Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("用户名只能包含字母、数字、. - _"))])
    display_name = StringField(_l("姓名 / 显示名"), validators=[DataRequired(_l("请填写显示名")), Length(max=80)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=200),
                                                 Email(message=_l("电子邮箱格式不正确"), check_deliverability=False)])
    is_supervisor = BooleanField(_l("主管（可分派、复核本机构任务）"))
    password = PasswordField(_l("初始密码"), validators=[
        DataRequired(_l("请填写初始密码")),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("密码至少 %(n)s 位", n=MIN_PASSWORD_LENGTH))])


class PasswordResetForm(Form):
    password = PasswordField(_l("新密码"), validators=[
        DataRequired(_l("请填写新密码")),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("密码至少 %(n)s 位", n=MIN_PASSWORD_LENGTH))])
    confirm = PasswordField(_l("再次输入新密码"), validators=[EqualTo("password", message=_l("两次输入的密码不一致"))])


class BlacklistForm(Form):
    reason = TextAreaField(_l("原因（如：恶意逃废债务，依据……）"),
                           validators=[DataRequired(_l("请填写原因")), Length(max=500)])


class SchemeForm(Form):
    preset = SelectField(_l("政策模板"), validators=[InputRequired(_l("请选择政策模板"))])
    code = StringField(_l("政策代码（唯一）"), validators=[DataRequired(_l("请填写政策代码")), Length(max=40),
                                                    Regexp(CODE_RE, message=_l("代码只能包含字母、数字、- 和 _"))])
    name = StringField(_l("名称（留空则用模板名称）"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=200)])


class MemberForm(Form):
    role = SelectField(_l("角色"), validators=[InputRequired(_l("请选择角色"))])
    organisation_id = SelectField(_l("机构"), coerce=int, validators=[InputRequired(_l("请选择机构"))])


class ParamsForm(Form):
    version = HiddenField()
    params = TextAreaField(_l("参数（JSON）"), validators=[DataRequired(_l("请填写参数")), Length(max=50000)])
    note = StringField(_l("修改说明（依据的文件、会议纪要等）"),
                       validators=[DataRequired(_l("请说明修改原因")), Length(max=500)])


class RateForm(Form):
    kind = SelectField(_l("利率类型"), validators=[InputRequired(_l("请选择利率类型"))])
    effective_from = DateField(_l("生效日期"), validators=[InputRequired(_l("请填写生效日期"))])
    min_months = IntegerField(_l("期限下限（月，不含）"), default=0,
                              validators=[InputRequired(_l("请填写期限下限")),
                                          NumberRange(0, 600, _l("期限下限应在 0 到 600 个月之间"))])
    max_months = IntegerField(_l("期限上限（月，含；留空表示无上限）"),
                              validators=[Optional(), NumberRange(1, 600, _l("期限上限应在 1 到 600 个月之间"))])
    rate = DecimalField(_l("年利率（%）"), places=4, validators=[InputRequired(_l("请填写利率")),
                                                            NumberRange(0, 100, _l("利率应在 0 到 100 之间"))])
    source = StringField(_l("来源（公告文号）"), validators=[Optional(), Length(max=200)])


class BindingForm(Form):
    """Bind one process kind of a scheme (or of the deployment) to a process version."""
    target = SelectField(_l("流程与版本"), validators=[InputRequired(_l("请选择流程版本"))])
    note = StringField(_l("修改说明（依据的文件、会议纪要等）"),
                       validators=[DataRequired(_l("请说明修改原因")), Length(max=500)])


class SchemeActiveForm(Form):
    """Go live (accept applications) or stop a scheme."""
    active = SelectField(_l("状态"), choices=[("1", _l("启用（受理申请）")), ("0", _l("停用"))],
                         validators=[InputRequired(_l("请选择状态"))])
    note = StringField(_l("说明"), validators=[Length(max=500)])
