"""One WTForms form per user task, found by the form key the BPMN names (``formKey`` property)."""
from forms.application import ApplicationForm  # noqa: F401
from forms.tasks import (BankDueDiligenceForm, DepartmentReviewForm, EnterpriseSupplementForm,
                         FilingAckForm)

TASK_FORMS = {
    "department_review": DepartmentReviewForm,
    "enterprise_supplement": EnterpriseSupplementForm,
    "bank_due_diligence": BankDueDiligenceForm,
    "filing_ack": FilingAckForm,
}


def register_task_form(key: str, form_cls) -> None:
    TASK_FORMS[key] = form_cls


def form_for(key: str):
    return TASK_FORMS[key]
