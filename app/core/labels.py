"""Words for the keys stored in data: audit actions, subject types, attachment kinds.

Pages show ``{{ e.action|action_label }}``, ``{{ type|subject_label }}``, ``{{ a.kind|kind_label }}``
instead of the key itself; the labels are msgids (``N_``) translated when shown.  A key not listed
here is shown as it is stored (and the i18n crawl test notices it).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from app.core.i18n import N_, PUNCTUATION, gettext
from app.core.money import ROUNDING_LABELS

ACTIONS = {
    # accounts and administration
    "registered": N_("企业注册"), "verified": N_("认证通过"), "verification_refused": N_("认证未通过"),
    "password_changed": N_("修改密码"), "password_reset": N_("重置密码"), "created": N_("创建"),
    "updated": N_("修改"), "added": N_("新增"), "deployed": N_("部署"), "blacklisted": N_("列入黑名单"),
    "unblacklisted": N_("移出黑名单"), "reactivated": N_("重新启用"), "deactivated": N_("停用"),
    "member_added": N_("新增合作单位"), "member_removed": N_("移除合作单位"), "params_changed": N_("修改政策参数"),
    "process_binding_changed": N_("更改流程绑定"),
    # loan applications
    "submitted": N_("企业提交贷款需求"), "department_recommend": N_("部门推荐至银行"),
    "department_return": N_("部门退回补充材料"), "department_reject": N_("部门不予推荐"),
    "supplemented": N_("企业补充材料"), "claimed": N_("认领"), "released": N_("释放认领"),
    "bank_approved": N_("银行批准贷款"), "bank_declined": N_("银行不予贷款"),
    "filing_acknowledged": N_("备案确认"), "filed": N_("备案完成"), "form_submitted": N_("提交表单"),
    # compensation
    "overdue_reported": N_("银行报告逾期"), "advance_reviewed_approve": N_("财政局受理先行代偿申请"),
    "advance_reviewed_refuse": N_("财政局不予受理先行代偿"), "advance_approved_approve": N_("区政府同意先行代偿"),
    "advance_approved_refuse": N_("区政府不同意先行代偿"), "advance_paid": N_("先行代偿已拨付"),
    "recovery_recorded": N_("登记追偿入账"), "cost_recorded": N_("登记诉讼等费用"), "recovery_closed": N_("结束追偿"),
    "claim_submitted": N_("提交补偿申请"), "review_approve": N_("成员单位同意补偿"), "review_return": N_("成员单位退回补正"),
    "review_reject": N_("成员单位不予补偿"), "claim_rejected": N_("联席会议不予补偿"), "letter_issued": N_("出具拨付函"),
    "disbursed": N_("财政局拨付"), "settled": N_("补偿结清"),
    # fund
    "scheme_paused": N_("暂停受理新增贷款"), "scheme_resumed": N_("金融办恢复业务"),
    "fund_review_flagged": N_("提示评估基金规模"), "fund_review_acknowledged": N_("基金规模评估提示已处理"),
    "fund_inflow": N_("财政局登记入账"), "bank_suspended": N_("暂停合作银行业务"),
    "rectification_submitted": N_("银行提交整改报告"), "rectification_approved": N_("金融办认可整改，恢复业务"),
    "rectification_returned": N_("金融办退回继续整改"),
    # duties, calendar, process instances
    "duty_created": N_("生成报送任务"), "monthly_filed": N_("提交月度备案"),
    "credit_data_uploaded": N_("上传信用信息"),
    "calendar_days_entered": N_("录入工作日安排"), "calendar_day_removed": N_("删除工作日安排"),
    "calendar_completed": N_("确认全年工作日安排"), "calendar_reopened": N_("重新开放工作日安排"),
    "incident": N_("步骤出错（流程事件）"), "incident_resolved": N_("流程事件已处理"),
    "instance_retried": N_("管理员重试"), "instance_cancelled": N_("管理员取消流程"),
    "instance_migrated": N_("迁移流程版本"), "instance_data_set": N_("管理员设置数据"),
}

SUBJECTS = {
    "loan_application": N_("贷款申请"), "loan": N_("贷款"), "compensation_claim": N_("补偿申请"),
    "compensation_cost": N_("追偿费用"), "duty": N_("报送任务"), "bank_suspension": N_("银行暂停"),
    "scheme": N_("政策"), "process_instance": N_("流程实例"), "organisation": N_("单位"), "user": N_("用户"),
    "replay": N_("政策回放"), "calendar_year": N_("工作日安排"), "deployment": N_("流程部署"),
    "fund_entry": N_("基金台账"), "recovery": N_("追偿款"), "bank": N_("合作银行"),
}

ATTACHMENT_KINDS = {
    "business_licence": N_("营业执照"), "financial_statements": N_("财务报表"), "authorisation": N_("征信查询授权书"),
    "supplement": N_("补充材料"), "other": N_("其他材料"), "rectification_report": N_("整改报告"),
    "litigation_cost": N_("诉讼等费用凭证"), "credit_data": N_("信用信息文件"),
    "claim_form": N_("风险补偿基金申请书"), "loan_contract": N_("贷款合同"),
    "recovery_receipts": N_("追偿款项入账凭证"), "npl_proof": N_("不良贷款证明"),
}


def _label(table: dict[str, str], key) -> str:
    if not key:
        return ""
    label = table.get(str(key))
    return gettext(label) if label else str(key)


def action_label(key) -> str:
    return _label(ACTIONS, key)


def subject_label(key) -> str:
    return _label(SUBJECTS, key)


def kind_label(key) -> str:
    return _label(ATTACHMENT_KINDS, key)


def subject_ref(subject_type, subject_id) -> str:
    """``补偿申请 #1`` for (``compensation_claim``, 1); empty when there is no subject."""
    if not subject_type:
        return ""
    return f"{subject_label(subject_type)} #{subject_id}" if subject_id is not None else subject_label(subject_type)


# ---------------------------------------------------------------------------- computation lines

# a number with a decimal point, not part of a word, a percentage or another number
_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\d%.])")
# words the stored formulas contain (rules.py writes them in the source language)
FORMULA_WORDS = [N_("取较小者"), N_("已代偿"), *ROUNDING_LABELS.values()]


def _amount(m: re.Match) -> str:
    try:
        d = Decimal(m.group(0))
    except InvalidOperation:
        return m.group(0)
    places = max(2, len(m.group(0).split(".", 1)[1].rstrip("0")))
    return f"{d:,.{places}f}"


def formula_text(text) -> str:
    """A stored computation formula as shown: amounts like the amounts beside them
    (``800000.00 × 65% = 520000.0000`` → ``800,000.00 × 65% = 520,000.00``), its words translated."""
    if not text:
        return ""
    out = _NUMBER.sub(_amount, str(text))
    for word in FORMULA_WORDS:
        if word in out:
            out = out.replace(word, gettext(word))
    for mark in PUNCTUATION:
        if mark in out:
            out = out.replace(mark, gettext(mark))
    return out
