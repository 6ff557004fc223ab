"""Forms of the loan book (app/loanbook) and of the API tokens' admin page (app/api)."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from app.core.i18n import _l
from app.loanbook.models import BOOK_STATUSES
from app.loans.models import CLASSIFICATIONS
from forms.fields import Form
from forms.validators import fen_amount

MONTH = [DataRequired(_l("请填写月份")), Length(max=7),
         Regexp(r"^\d{4}-\d{2}$", message=_l("月份格式应为 YYYY-MM"))]


class BookUploadForm(Form):
    """A bank uploads its loan book of one month (the template's columns)."""
    month = StringField(_l("月份（YYYY-MM）"), validators=MONTH)
    file = FileField(_l("贷款台账文件（.xlsx）"))


class LoanRowForm(Form):
    """One loan's position at the end of a month."""
    month = StringField(_l("月份（YYYY-MM）"), validators=MONTH)
    outstanding_principal = DecimalField(_l("月末贷款余额（元）"), places=2,
                                         validators=[InputRequired(_l("请填写金额")), fen_amount(min_value=Decimal("0.00"))])
    repaid_principal = DecimalField(_l("本月归还本金（元）"), places=2,
                                    validators=[InputRequired(_l("请填写金额")), fen_amount(min_value=Decimal("0.00"))])
    classification = SelectField(_l("五级分类"), choices=[(k, _l(v)) for k, v in CLASSIFICATIONS.items()],
                                 validators=[InputRequired(_l("请选择五级分类"))])
    status = SelectField(_l("贷款状态"), choices=[(k, _l(v)) for k, v in BOOK_STATUSES.items()],
                         validators=[InputRequired(_l("请选择贷款状态"))])


class IssueTokenForm(Form):
    organisation_id = SelectField(_l("机构"), coerce=int, validators=[InputRequired(_l("请选择机构"))])
    name = StringField(_l("用途（如 核心系统报送）"), validators=[DataRequired(_l("请填写用途")), Length(max=80)])


class RevokeTokenForm(Form):
    pass
