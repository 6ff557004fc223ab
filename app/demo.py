"""Demo data: firms in different sectors, all four departments, two banks, and every other role."""
from __future__ import annotations


from sqlalchemy import select

from app.accounts.models import Organisation, OrgKind, Sector, User
from app.accounts.operations import create_user
from app.applications.models import CreditRecord
from app.core.db import db
from app.core.uscc import make as make_uscc
from app.fund import operations as fund_ops
from app.policies.models import Scheme, SchemeMember
from app.policies.presets import preset_codes, preset_params
from app.policies.rates import seed_reference_rates
from app.workflow.engine import deploy_directory

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
]
# credit-data source units (黔江方案: 税务、社保、公积金、供水、供电、供气 ...); each gets the quarterly upload duty
DATA_SOURCES = [("tax", "区税务局", "District Tax Bureau"), ("social", "区人力社保局", "Human Resources and Social Security"),
                ("housing_fund", "区住房公积金中心", "Housing Provident Fund Centre"),
                ("land", "区规划自然资源局", "Planning and Natural Resources Bureau"), ("judicial", "区人民法院", "District Court"),
                ("water", "区供水公司", "Water Supply Co."), ("power", "区供电公司", "Power Supply Co."),
                ("gas", "区燃气公司", "Gas Co."), ("registration", "区市场监管局", "Market Regulation Administration")]
BANKS = [("bank1", "重庆农村商业银行区支行", "Chongqing Rural Commercial Bank"),
         ("bank2", "中国建设银行区支行", "China Construction Bank")]
ROLE_LABELS = {"enterprise": "企业 enterprise", "department": "行业主管部门 department",
               "bank": "合作银行 bank", "finance_bureau": "财政局 finance bureau",
               "financial_office": "金融办 financial office", "service_centre": "金融服务中心 service centre",
               "guarantee": "担保公司 guarantee", "pboc": "人民银行 PBoC", "regulator": "银保监 regulator",
               "data_source": "信用信息来源单位 data source", "admin": "管理员 admin"}


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
                    legal_representative="张三", contact_phone="023-79000000")
        _user(firm, username, f"{name}财务负责人", password, logins)
        if db.session.scalar(select(CreditRecord.id).where(CreditRecord.enterprise_id == firm.id)) is None:
            for cat, summary in [("tax", "近12个月按时纳税，纳税信用等级 B 级"),
                                 ("social_insurance", "在册职工 36 人，社保按时缴纳"),
                                 ("power", "近12个月月均用电 4.2 万千瓦时，无欠费"),
                                 ("judicial", "无涉诉被执行记录")]:
                db.session.add(CreditRecord(enterprise_id=firm.id, category=cat, period="2026Q3", summary=summary))
    for preset in preset_codes():
        ensure_scheme(preset, banks, units)
    db.session.flush()
    return logins


def ensure_scheme(preset: str, banks, units, code: str | None = None) -> Scheme:
    code = code or preset
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == code))
    if scheme is not None:
        return scheme
    params = preset_params(preset)
    scheme = Scheme(code=code, preset=preset)
    scheme.set_params(params)
    db.session.add(scheme)
    db.session.flush()
    for bank in banks:
        db.session.add(SchemeMember(scheme_id=scheme.id, organisation_id=bank.id, role="bank"))
    role_of = {"finance": "finance_bureau", "finoffice": "financial_office", "centre": "service_centre",
               "guarantee": "guarantee", "pboc": "pboc", "cbirc": "regulator"}
    for key, org in units.items():
        db.session.add(SchemeMember(scheme_id=scheme.id, organisation_id=org.id, role=role_of[key]))
    db.session.flush()
    db.session.refresh(scheme)
    if params.fund_size:
        fund_ops.post(scheme.id, "capital_injection", params.fund_size,
                      key=f"capital:{scheme.code}:initial", memo="初始注资（政策规定的基金规模）")
    return scheme
