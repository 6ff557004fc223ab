from forms.fields import Form
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from app.core.i18n import _l
from forms.validators import fen_amount
from decimal import Decimal


class MonthlyFilingForm(Form):
    confirmed = BooleanField(_l("确认以上为本行上月发放的全部政策内贷款"))
    firm_count = IntegerField(_l("支持企业户数"), validators=[InputRequired(_l("请填写企业户数")), NumberRange(0, 100000)])
    loan_count = IntegerField(_l("贷款笔数"), validators=[InputRequired(_l("请填写贷款笔数")), NumberRange(0, 100000)])
    total_amount = DecimalField(_l("贷款金额合计（元）"), places=2,
                                validators=[InputRequired(_l("请填写贷款金额")), fen_amount(min_value=Decimal("0.00"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=2000)])

    def validate_confirmed(self, field):
        if not field.data:
            from wtforms.validators import ValidationError
            raise ValidationError(_l("请确认贷款清单"))


class CreditDataUploadForm(Form):
    file = FileField(_l("信用信息文件（按模板填写的 .xlsx 或 .csv）"),
                     validators=[FileRequired(_l("请上传本季度信用信息文件"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=2000)])
