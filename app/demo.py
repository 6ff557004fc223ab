"""Demo data: firms in different sectors, all four departments, two banks, and every other role."""
from __future__ import annotations


from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select

from app.accounts.models import Organisation, OrgKind, Sector, User
from app.accounts.operations import create_user
from app.applications import operations as app_ops
from app.applications.models import Attachment, LoanApplication
from app.compensation import operations as comp_ops
from app.core.db import db
from app.core import uploads
from app.core.timeutil import local, now, today
from app.core.i18n import N_, stored
from app.core.uscc import make as make_uscc
from app.credit import commitments, recommended, sources as credit_sources
from app.credit.models import CreditCommitment, CreditDataUpload, ListEntry
from app.duties import operations as duty_ops
from app.duties.models import Duty
from app.fund import operations as fund_ops
from app.loanbook import operations as book_ops
from app.loans.models import Filing, Loan
from app.performance import operations as performance
from app.performance.models import Evaluation
from app.policies import bindings
from app.policies.models import Scheme, SchemeMember
from app.policies.presets import preset_codes, preset_params
from app.policies.rates import seed_reference_rates
from app.workflow.engine import deploy_directory
from app.workflow.models import HumanTask

DEPARTMENTS = [
    ("agri", "区农业农村委", "District Agriculture and Rural Affairs Commission", "agriculture", "农业", "Agriculture"),
    ("industry", "区经济信息委", "District Economy and Information Commission", "industry", "工业", "Industry"),
    ("commerce", "区商务委", "District Commerce Commission", "commerce", "商贸流通", "Commerce and trade"),
    ("culture", "区文化旅游委", "District Culture and Tourism Commission", "culture_tourism", "文化旅游", "Culture and tourism"),
]
FIRMS = [
    ("firm1", "重庆绿源农业发展有限公司", "agriculture", "MA0000011"),
    ("firm2", "重庆精工机械制造有限公司", "industry", "MA0000022"),
    ("firm3", "重庆万家商贸有限公司", "commerce", "MA0000033"),
    ("firm4", "重庆山水文旅发展有限公司", "culture_tourism", "MA0000044"),
]
# registered business scope (经营范围): 江津 excludes firms whose business is futures or real estate (art.11.3)
BUSINESS_SCOPES = {"agriculture": "蔬菜、水果种植；农产品初加工及销售", "industry": "通用机械及零部件制造、销售",
                   "commerce": "日用百货、预包装食品批发零售", "culture_tourism": "旅游景区管理；文化活动策划"}
FIRM_NAMES_EN = {"firm1": "Chongqing Lüyuan Agricultural Development Co., Ltd.",
                 "firm2": "Chongqing Jinggong Machinery Manufacturing Co., Ltd.",
                 "firm3": "Chongqing Wanjia Trading Co., Ltd.",
                 "firm4": "Chongqing Shanshui Culture and Tourism Development Co., Ltd."}
UNITS = [
    ("finance", OrgKind.finance_bureau, "区财政局", "District Finance Bureau"),
    ("finoffice", OrgKind.financial_office, "区金融办（金管办）", "District Financial Office"),
    ("centre", OrgKind.service_centre, "区金融发展服务中心", "Financial Development Service Centre"),
    ("guarantee", OrgKind.guarantee, "区诚信融资担保有限公司", "Chengxin Financing Guarantee Co."),
    ("pboc", OrgKind.pboc, "人民银行区中心支行", "PBoC District Sub-branch"),
    ("cbirc", OrgKind.regulator, "银保监区分局", "Banking and Insurance Regulator, District Office"),
    ("gov", OrgKind.district_government, "区人民政府", "District People's Government"),
]
# 凌源's leading group (办法 art.6): 发改局 (its office sits there), 工信局, 财政局, 科技局, 商务局,
# 金融发展局, 人民银行 — the demo's industry and commerce departments, finance bureau, financial office
# and PBoC stand in for theirs; 发改局 and 科技局 are added here.
COMMITTEE_DEPTS = [("ndrc", "区发展改革委（领导小组办公室）", "District Development and Reform Commission"),
                   ("science", "区科技局", "District Science and Technology Bureau")]
# credit-data source units (黔江方案: 税务、社保、公积金、供水、供电、供气 ...); each gets the quarterly upload duty
DATA_SOURCES = [("tax", "区税务局", "District Tax Bureau"), ("social", "区人力社保局", "Human Resources and Social Security"),
                ("housing_fund", "区住房公积金中心", "Housing Provident Fund Centre"),
                ("land", "区规划自然资源局", "Planning and Natural Resources Bureau"), ("judicial", "区人民法院", "District Court"),
                ("water", "区供水公司", "Water Supply Co."), ("power", "区供电公司", "Power Supply Co."),
                ("gas", "区燃气公司", "Gas Co."), ("registration", "区市场监管局", "Market Regulation Administration"),
                ("credit_report", "市信用服务中心", "Credit Service Centre")]
# the category each source unit reports (app/credit/data/source_categories.json), by the unit's code above
SOURCE_CATEGORIES = {"social": "social_insurance", "registration": "business_registration"}
BANKS = [("bank1", "重庆农村商业银行区支行", "Chongqing Rural Commercial Bank"),
         ("bank2", "中国建设银行区支行", "China Construction Bank")]
ROLE_LABELS = {"enterprise": "企业 enterprise", "department": "行业主管部门 department",
               "bank": "合作银行 bank", "finance_bureau": "财政局 finance bureau",
               "financial_office": "金融办 financial office", "service_centre": "金融服务中心 service centre",
               "guarantee": "担保公司 guarantee", "pboc": "人民银行 PBoC", "regulator": "银保监 regulator",
               "data_source": "信用信息来源单位 data source", "admin": "管理员 admin",
               "district_government": "区政府 district government"}


def _org(code, kind, name, name_en="", **kw) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        org = Organisation(code=code, kind=kind.value if hasattr(kind, "value") else kind, name=name,
                           name_en=name_en, **kw)
        db.session.add(org)
        db.session.flush()
    return org


def _user(org, username, display, password, logins, supervisor=False):
    if db.session.scalar(select(User).where(User.username == username)) is None:
        create_user(org, username, display, password, is_supervisor=supervisor,
                    email=f"{username}@example.gov.cn")
    logins.append((ROLE_LABELS[org.kind], org.name, username))


def load_demo(password: str = "demo1234") -> list[tuple[str, str, str]]:
    seed_reference_rates()
    deploy_directory(rollback=False)
    logins: list[tuple[str, str, str]] = []
    admin = _org("ADMIN", OrgKind.admin, "系统管理", "Administration")
    _user(admin, "admin", "系统管理员", password, logins)
    sectors = {}
    for code, name, name_en, sector_code, sector_name, sector_en in DEPARTMENTS:
        dept = _org(f"DEPT-{code}", OrgKind.department, name, name_en)
        sector = db.session.scalar(select(Sector).where(Sector.code == sector_code))
        if sector is None:
            sector = Sector(code=sector_code, name=sector_name, name_en=sector_en, department_id=dept.id)
            db.session.add(sector)
            db.session.flush()
        sectors[sector_code] = sector
        _user(dept, f"dept_{code}", f"{name}审核员", password, logins)
    units = {}
    for code, kind, name, name_en in UNITS:
        units[code] = _org(f"UNIT-{code}", kind, name, name_en)
        _user(units[code], code, f"{name}经办人", password, logins)
    for code, name, name_en in DATA_SOURCES:
        source = _org(f"DATA-{code}", OrgKind.data_source, name, name_en)
        _user(source, f"data_{code}", f"{name}信息报送员", password, logins)
        if credit_sources.unit_category(source.id) is None:
            credit_sources.assign_unit(source, SOURCE_CATEGORIES.get(code, code))
    banks = []
    for code, name, name_en in BANKS:
        bank = _org(f"BANK-{code}", OrgKind.bank, name, name_en)
        banks.append(bank)
        _user(bank, f"{code}_officer", f"{name}客户经理", password, logins)
        _user(bank, f"{code}_officer2", f"{name}客户经理二", password, logins)
        _user(bank, f"{code}_supervisor", f"{name}信贷主管", password, logins, supervisor=True)
    for username, name, sector_code, org_code in FIRMS:
        uscc = make_uscc("91500114" + org_code)
        firm = _org(uscc, OrgKind.enterprise, name, FIRM_NAMES_EN.get(username, ""), sector_id=sectors[sector_code].id,
                    legal_representative="张三", contact_phone="023-79000000",
                    business_scope=BUSINESS_SCOPES.get(sector_code))
        _user(firm, username, f"{name}财务负责人", password, logins)
    _demo_credit_data()
    committee = {}
    for code, name, name_en in COMMITTEE_DEPTS:
        committee[code] = _org(f"DEPT-{code}", OrgKind.department, name, name_en)
        _user(committee[code], f"dept_{code}", f"{name}经办人", password, logins)
    depts = {code: db.session.scalar(select(Organisation).where(Organisation.code == f"DEPT-{code}"))
             for code in ("industry", "commerce")}
    leading_group = {"leading_group_office": [committee["ndrc"]],
                     "leading_group": [committee["ndrc"], depts["industry"], units["finance"], committee["science"],
                                       depts["commerce"], units["finoffice"], units["pboc"]]}
    schemes = [ensure_scheme(preset, banks, units) for preset in preset_codes()]
    for scheme in schemes:
        bindings.bind_preset(scheme)   # the preset's own diagrams (黔江, 江津)
        if scheme.params.batch is not None:
            _committee(scheme, leading_group)
    db.session.flush()
    firms = list(db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.enterprise.value)
                                    .order_by(Organisation.id)))[:len(FIRMS)]
    ensure_loan_history(schemes[:2], banks, firms)
    _demo_recommended_list()
    ensure_sample_work(schemes[0], banks, firms)
    ensure_joint_review_sample(next((s for s in schemes if s.code == "qianjiang_2018"), None), banks, firms)
    ensure_duty_history(now())
    _demo_evaluation(schemes[0], units["finance"])
    return logins


def _demo_evaluation(scheme: Scheme, finance: Organisation) -> None:
    """A draft performance evaluation of this year for the first scheme (江津), computed by its finance
    bureau from the demo loan book, so that the page shows something; left for the bureau to confirm."""
    if scheme.params.performance is None or db.session.scalar(
            select(Evaluation.id).where(Evaluation.scheme_id == scheme.id).limit(1)) is not None:
        return
    user = db.session.scalar(select(User).where(User.organisation_id == finance.id).order_by(User.id).limit(1))
    performance.compute(scheme.id, str(today().year), user)


# ------------------------------------------------------------------ a calm first run
# The demo is loaded "today": every deadline it starts is counted from now (the diagrams' working
# days), so nothing it creates is already overdue.  The duty periods whose deadline has passed before
# the demo existed are recorded as filed on time (the history of a running system), instead of being
# created open and escalated in the first minutes (19 overdue duties and their escalations).

SAMPLE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _user_of(org: Organisation, username: str | None = None) -> User:
    q = select(User).where(User.organisation_id == org.id).order_by(User.id)
    if username:
        q = q.where(User.username == username)
    return db.session.scalar(q.limit(1))


def _open_task(subject_type: str, subject_id: int, form_key: str) -> HumanTask | None:
    return db.session.scalar(select(HumanTask).where(
        HumanTask.subject_type == subject_type, HumanTask.subject_id == subject_id,
        HumanTask.form_key == form_key, HumanTask.status == "open").order_by(HumanTask.id).limit(1))


def ensure_sample_work(scheme: Scheme, banks, firms) -> None:
    """Applications and claims at several stages (once), so each role has something to look at:

    * firm1: submitted, waiting for its department's review;
    * firm2: recommended to bank1, waiting for its due diligence;
    * firm3: approved by bank2, waiting for the filing recipients' acknowledgement;
    * firm4: returned by its department for more material;
    * two claims (江津: advanced by the guarantee company at overdue): bank1's at the finance bureau's
      review, bank2's at the district government's approval.
    """
    if not firms or not scheme.active or db.session.scalar(
            select(LoanApplication.id).where(LoanApplication.enterprise_id.in_([f.id for f in firms])).limit(1)):
        return
    bank_ids = [b.id for b in banks]
    stories = [("submitted", None), ("recommend", 0), ("approve", 1), ("return", None)]
    for firm, (story, bank_i) in zip(firms, stories):
        bank_id = bank_ids[bank_i if bank_i is not None else 0]
        firm_user = _user_of(firm)
        written: list[str] = []
        a = app_ops.submit_application(firm_user, app_ops.ApplicationInput(
            scheme_id=scheme.id, sector_id=firm.sector_id, amount=Decimal("800000.00"), term_months=12,
            purpose="采购原材料（演示数据）", activity="working_capital", repayment_plan="按月付息，到期还本",
            repayment_source="销售回款", preferred_bank_id=bank_id, consent_bank_id=bank_id,
            consent_valid_until=today() + timedelta(days=90), consent_purpose="贷前调查", credit_rating="A"),
            [("营业执照.pdf", SAMPLE_PDF)], [("财务报表.pdf", SAMPLE_PDF)], written)
        if story == "submitted":
            continue
        dept_user = _user_of(db.session.get(Organisation, a.department_id))
        review = _open_task(app_ops.SUBJECT, a.id, "department_review")
        if review is None:       # a scheme whose applications go to the bank directly
            continue
        decision = "return" if story == "return" else "recommend"
        app_ops.department_review(review.id, dept_user, decision,
                                  "请补充近三个月纳税证明（演示数据）" if decision == "return"
                                  else "经营正常，信用良好，符合产业支持方向（演示数据）",
                                  bank_id if decision == "recommend" else None)
        if story != "approve":
            continue
        dd = _open_task(app_ops.SUBJECT, a.id, "bank_due_diligence")
        officer = _user_of(db.session.get(Organisation, bank_id))
        app_ops.claim(dd.id, officer)
        product = scheme.params.products[0].code
        app_ops.bank_decide(dd.id, officer, "approve", approval=app_ops.Approval(
            contract_no=f"HT-{a.no}", amount=a.amount, annual_rate=Decimal("4.3500"), term_months=12,
            disbursed_on=today(), product=product, outside_scheme=True), opinion="同意发放（演示数据）")
    _sample_claims(scheme, banks)


def _sample_claims(scheme: Scheme, banks) -> None:
    for b_i, bank in enumerate(banks[:2]):
        loan = db.session.scalar(select(Loan).where(Loan.no == f"DEMO-{scheme.id}-{b_i + 1}-4"))
        if loan is None or loan.status not in ("active", "overdue"):
            continue
        officer = _user_of(bank)
        overdue_on = max(loan.disbursed_on, today() - timedelta(days=60))
        claim = comp_ops.report_overdue(officer, loan.id, comp_ops.OverdueReport(
            overdue_on=overdue_on, overdue_principal=loan.outstanding_principal, classification="substandard",
            note="企业经营困难，连续两期未还本付息（演示数据）"))
        if b_i == 0:
            continue                      # bank1's claim waits at its first step
        review = _open_task(comp_ops.SUBJECT, claim.id, "comp_advance_review")
        if review is not None:            # 江津: the finance bureau agreed; 区政府 approves the advance next
            reviewer = _user_of(db.session.get(Organisation, review.org_id))
            comp_ops.advance_review(review.id, reviewer, "approve", "材料齐全，同意先行代偿（演示数据）")


def ensure_joint_review_sample(scheme: Scheme | None, banks, firms) -> None:
    """黔江: a claim of bank1 at the joint meeting (金融办, 财政局, 人行 and 银保监 each sign), once.  Its
    loan sits beside a larger performing one, so the bank's NPL ratio stays under the 3 % that suspends it."""
    if scheme is None or not firms or db.session.scalar(select(Loan.id).where(Loan.no == f"DEMO-{scheme.id}-1-1")):
        return
    bank, firm = banks[0], firms[1]
    loans = []
    for i, (amount, back) in enumerate((("6000000.00", 200), ("150000.00", 400)), start=1):
        loan = Loan(no=f"DEMO-{scheme.id}-1-{i}", scheme_id=scheme.id, bank_id=bank.id, enterprise_id=firm.id,
                    sector_id=firm.sector_id, contract_no=f"HT-DEMO-{scheme.id}-1-{i}",
                    product=scheme.params.products[0].code, amount=Decimal(amount), annual_rate=Decimal("4.3500"),
                    term_months=24, disbursed_on=today() - timedelta(days=back),
                    outstanding_principal=Decimal(amount), status="active", eligibility_json="[]",
                    policy_version=scheme.params_version)
        db.session.add(loan)
        db.session.flush()
        for org in scheme.member_orgs(*scheme.params.filing_recipient_roles):
            db.session.add(Filing(loan_id=loan.id, recipient_id=org.id, acknowledged_at=now()))
        loans.append(loan)
    officer = _user_of(bank)
    bad = loans[1]
    claim = comp_ops.report_overdue(officer, bad.id, comp_ops.OverdueReport(
        overdue_on=today() - timedelta(days=120), overdue_principal=bad.outstanding_principal, classification="loss",
        note="企业停产，连续三期未付息（演示数据）"))
    close = _open_task(comp_ops.SUBJECT, claim.id, "comp_recovery_close")
    comp_ops.close_recovery(close.id, officer, today() - timedelta(days=7), "法院终结本次执行（演示数据）")
    submit = _open_task(comp_ops.SUBJECT, claim.id, "comp_claim")
    loss = comp_ops.compute_claim(claim).result_of("final_loss")
    comp_ops.submit_claim(submit.id, officer, comp_ops.ClaimInput(
        classification="loss", amount_recovered=Decimal("0.00"), final_loss=loss, note="申请风险补偿（演示数据）"),
        {k: [(f"{k}.pdf", SAMPLE_PDF)] for k in ("claim_form", "loan_contract", "npl_proof")}, [])


def ensure_duty_history(at) -> None:
    """The current periods' duties whose deadline passed before the demo was loaded, recorded as filed
    on time, so the hourly duty jobs do not create them already overdue.  A period still open today is
    left to the jobs (its duty is created with a deadline to come).  Monthly filings have each scheme's
    own deadline (``filing_working_days``)."""
    on = local(at).date()
    rows = []
    members = db.session.execute(
        select(SchemeMember.scheme_id, SchemeMember.organisation_id).join(Scheme, Scheme.id == SchemeMember.scheme_id)
        .where(SchemeMember.role == "bank", SchemeMember.suspended.is_(False), Scheme.active.is_(True))).all()
    for scheme_id, org_id in members:
        period = duty_ops.monthly_period(on, db.session.get(Scheme, scheme_id))
        if period is not None:
            rows.append((period, duty_ops.monthly_key(period, scheme_id, org_id), "monthly_filing", scheme_id, org_id))
    quarter = duty_ops.quarterly_period(on)
    if quarter is not None:
        for o in db.session.scalars(select(Organisation.id).where(Organisation.kind == OrgKind.data_source.value)):
            rows.append((quarter, duty_ops.credit_data_key(quarter, o), "credit_data", None, o))
    for period, key, kind, scheme_id, org_id in rows:
        if period.due_at >= at or db.session.scalar(select(Duty.id).where(Duty.key == key)) is not None:
            continue
        done = period.due_at - timedelta(days=1)
        db.session.add(Duty(key=key, kind=kind, period=period.code, scheme_id=scheme_id, org_id=org_id,
                            due_at=period.due_at, stats_due_at=period.stats_due_at, status="done", late=False,
                            result_json='{"demo": true}', created_at=done, completed_at=done))
    db.session.flush()


# (months before this month it was disbursed, amount, story): a year of monthly loan-book history
DEMO_LOANS = [(14, "3000000.00", "amortising"), (12, "2000000.00", "repaid_early"), (10, "1500000.00", "amortising"),
              (8, "120000.00", "deteriorating"), (6, "2500000.00", "amortising"), (3, "1200000.00", "amortising")]


def _demo_credit_data() -> None:
    """A few records loaded through the loader (as a source unit's quarterly file would be) for the
    demo firms: the last quarter's tax, power and credit reports; firm3's report says BBB, firm4 has
    a 失信 record, so the bank's credit-data page and 凌源's gates show both."""
    t = today()
    last = date(t.year, 3 * ((t.month - 1) // 3) + 1, 1) - timedelta(days=1)     # the last quarter's last day
    period = f"{last.year}Q{(last.month - 1) // 3 + 1}"
    firms = [(make_uscc("91500114" + c), n) for _u, n, _s, c in FIRMS]
    rows = {
        "tax": [[u, n, period, "B" if i else "A", f"{8000 + 1500 * i}.00", ""] for i, (u, n) in enumerate(firms)],
        "power": [[u, n, period, f"{42000 + 5000 * i}", f"{29400 + 3500 * i}.00", ""] for i, (u, n) in enumerate(firms)],
        "credit_report": [[u, n, period, f"XY{period}{i + 1:04d}", ("AA", "A", "BBB", "A")[i], "市信用服务中心",
                           last.isoformat()] for i, (u, n) in enumerate(firms)],
        "judicial": [[firms[3][0], firms[3][1], period, "失信被执行人", f"（{last.year}）渝0114执101号", "区人民法院",
                      "", (last - timedelta(days=40)).isoformat(), ""]],
    }
    for code, data in rows.items():
        source = db.session.scalar(select(Organisation).where(Organisation.code == f"DATA-{code}"))
        user = db.session.scalar(select(User).where(User.username == f"data_{code}"))
        if source is None or user is None or db.session.scalar(select(CreditDataUpload.id).where(
                CreditDataUpload.source_org_id == source.id, CreditDataUpload.period == period)) is not None:
            continue
        cat = credit_sources.unit_category(source.id)
        header = [c.header for c in cat.columns]
        text = "\n".join(",".join(str(v) for v in r) for r in [header, *data])
        credit_sources.load_file(user, source, period, f"{code}-{period}.csv", text.encode("utf-8"))


def _month_of(months_back: int) -> str:
    return book_ops.previous_month(book_ops.current_month(), months_back)


def _position(amount: Decimal, age: int, story: str) -> tuple[Decimal, Decimal, str, str]:
    """(balance, repaid this month, class, status) of a demo loan ``age`` months after disbursement."""
    step = (amount / 24).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    if story == "repaid_early" and age >= 7:
        return Decimal("0.00"), (amount - step * 6 if age == 7 else Decimal("0.00")), "normal", "repaid"
    if story == "deteriorating" and age >= 4:
        frozen = amount - step * 3
        cls = "special_mention" if age == 4 else "substandard"
        return frozen, Decimal("0.00"), cls, "overdue"
    return amount - step * age, (step if age else Decimal("0.00")), "normal", "performing"


def ensure_loan_history(schemes, banks, firms) -> None:
    """Demo loans of each bank in the first schemes, and their loan book for the last twelve months
    (months counted from today in Asia/Shanghai), reported through the loan book's own operation.
    Loading the demo again adds only the months that have passed since."""
    if not firms:
        return
    for s_i, scheme in enumerate(schemes):
        product = scheme.params.products[0].code
        for b_i, bank in enumerate(banks):
            loans = []
            for l_i, (back, amount, story) in enumerate(DEMO_LOANS):
                no = f"DEMO-{scheme.id}-{b_i + 1}-{l_i + 1}"
                loan = db.session.scalar(select(Loan).where(Loan.no == no))
                if loan is None:
                    first = date.fromisoformat(_month_of(back) + "-10")
                    firm = firms[(l_i + b_i + s_i) % len(firms)]
                    loan = Loan(no=no, scheme_id=scheme.id, bank_id=bank.id, enterprise_id=firm.id,
                                sector_id=firm.sector_id, contract_no=f"HT-{no}", product=product,
                                amount=Decimal(amount) * (1 + b_i), annual_rate=Decimal("4.3500"), term_months=24,
                                disbursed_on=first, outstanding_principal=Decimal(amount) * (1 + b_i),
                                status="active", eligibility_json="[]")
                    db.session.add(loan)
                    db.session.flush()
                loans.append((loan, back, story))
            for back in range(12, 0, -1):
                month = _month_of(back)
                if book_ops.month_rows(bank.id, month, scheme.id):
                    continue
                rows = []
                for loan, disbursed_back, story in loans:
                    age = disbursed_back - back
                    if age < 0:
                        continue
                    if story == "repaid_early" and age > 7:
                        continue            # closed: no longer in the book
                    balance, repaid, cls, status = _position(loan.amount, age, story)
                    rows.append(book_ops.RowInput(loan.no, balance, repaid, cls, status))
                if rows:
                    book_ops.report(bank, month, rows, source="excel", replace=False)


DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _demo_recommended_list() -> None:
    """凌源's recommended list: three demo firms listed, the fourth on public notice (公示) through the
    process, so the public page (/public/list) shows both."""
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == "lingyuan_2020"))
    if scheme is None or db.session.scalar(select(ListEntry.id).where(ListEntry.scheme_id == scheme.id)):
        return
    firms = {u: db.session.scalar(select(Organisation).where(Organisation.name == name))
             for u, name, _sector, _code in FIRMS}
    office_user = db.session.scalar(select(User).where(User.username == "finoffice"))
    for u in ("firm1", "firm2", "firm3"):
        firm = firms[u]
        db.session.add(ListEntry(scheme_id=scheme.id, enterprise_id=firm.id, listed_on=today(),
                                 valid_until=recommended.add_months(today(), 12) - timedelta(days=1)))
        # a confirmed credit commitment (the generated PDF stands in for the signed copy)
        c = CreditCommitment(enterprise_id=firm.id, firm_name=firm.name, uscc=firm.code,
                             legal_representative=firm.legal_representative, status="confirmed",
                             decided_by_id=office_user.id, decided_at=now(), decision_note="演示数据")
        db.session.add(c)
        db.session.flush()
        sf = uploads.store(commitments.pdf_of(c), "信用承诺书.pdf")
        att = Attachment(subject_type=commitments.SUBJECT, subject_id=c.id, kind="signed_commitment",
                         original_name=sf.original_name, content_type=sf.content_type, size=sf.size,
                         sha256=sf.sha256, stored_name=sf.stored_name, uploaded_by_id=office_user.id)
        db.session.add(att)
        db.session.flush()
        c.attachment_id = att.id
    firm = firms["firm4"]                      # on public notice
    dept_user = db.session.scalar(select(User).where(User.organisation_id == firm.sector.department_id))
    written: list[str] = []
    n = recommended.nominate(dept_user, scheme.id, firm.id, "本市注册的小微文旅企业，符合产业方向",
                             "乡村民宿与景区运营，职工 28 人", "流动资金周转，旅游旺季营业收入还款",
                             {k: [(f"{k}.pdf", DEMO_PDF)] for k in recommended.REQUIRED_MATERIALS}, written)
    for key, step, decision in (("list_office_review", recommended.office_review, "approve"),
                                ("list_credit_check", recommended.credit_check, "pass")):
        ht = db.session.scalar(select(HumanTask).where(HumanTask.subject_type == recommended.SUBJECT,
                                                       HumanTask.subject_id == n.id, HumanTask.form_key == key,
                                                       HumanTask.status == "open"))
        step(ht.id, office_user, decision, "材料齐全，信用良好（演示数据）")
    db.session.flush()


def _committee(scheme: Scheme, members: dict) -> None:
    """Committee roles (凌源 领导小组 and its office) of a scheme, once."""
    for role, orgs in members.items():
        for org in orgs:
            if scheme.member(org.id, role) is None:
                db.session.add(SchemeMember(scheme_id=scheme.id, organisation_id=org.id, role=role))
    db.session.flush()
    db.session.refresh(scheme)


def ensure_scheme(preset: str, banks, units, code: str | None = None) -> Scheme:
    code = code or preset
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == code))
    if scheme is not None:
        return scheme
    params = preset_params(preset)
    # a preset whose seed leaves values open (永川's sharing ratios) waits for the administrator
    scheme = Scheme(code=code, preset=preset, active=not params.missing_for_go_live())
    scheme.set_params(params)
    db.session.add(scheme)
    db.session.flush()
    for bank in banks:
        db.session.add(SchemeMember(scheme_id=scheme.id, organisation_id=bank.id, role="bank"))
    role_of = {"finance": "finance_bureau", "finoffice": "financial_office", "centre": "service_centre",
               "guarantee": "guarantee", "pboc": "pboc", "cbirc": "regulator", "gov": "district_government"}
    for key, org in units.items():
        db.session.add(SchemeMember(scheme_id=scheme.id, organisation_id=org.id, role=role_of[key]))
    db.session.flush()
    db.session.refresh(scheme)
    if params.fund_size:
        fund_ops.post(scheme.id, "capital_injection", params.fund_size,
                      key=f"capital:{scheme.code}:initial", memo=stored(N_("初始注资（政策规定的基金规模）")))
    return scheme
