"""Test fixtures.

The database is made once per session: SQLite in a temporary file by default, or PostgreSQL when
``ZX_TEST_DATABASE_URL`` is set (each run in its own schema, dropped at the end).  Tests are
isolated by construction: every test builds its own organisations, users and scheme with the
``world`` factory, so requests, threads and real commits behave as in production.
"""
from __future__ import annotations

import io
import itertools
import os
import re
import uuid
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

import app.accounts.models as account_models

# a real argon2 hasher with test-sized cost
account_models._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")
PASSWORD = "test-pass-123"
_counter = itertools.count(1)


def _pg_schema_url(url: str, tmp_path_factory):
    schema = f"zx_test_{uuid.uuid4().hex[:10]}"
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                        if url.startswith("postgresql://") else url)
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, eng


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app import create_app
    from app.core.db import db

    tmp = tmp_path_factory.mktemp("zx")
    url = os.environ.get("ZX_TEST_DATABASE_URL")
    cfg = {"SECRET_KEY": "test-secret", "TESTING": True, "UPLOAD_DIR": str(tmp / "uploads"),
           "WTF_CSRF_ENABLED": True, "MAX_UPLOAD_MB": 1,
           # every test client comes from 127.0.0.1: tests of the login limits set their own
           "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
           "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}"}
    schema = admin_engine = None
    if url and url.startswith(("postgres", "postgresql")):
        schema, admin_engine = _pg_schema_url(url, tmp_path_factory)
        cfg["SQLALCHEMY_DATABASE_URI"] = url
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"},
                                            "pool_size": 10}
    else:
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp / 'test.db'}"
    application = create_app(cfg)
    application.config["ZX_TEST_SCHEMA"] = schema
    with application.app_context():
        db.create_all()
        from app.policies.rates import seed_reference_rates
        from app.workflow.engine import deploy_directory
        seed_reference_rates()
        report = deploy_directory()
        assert not report.refusals, [str(r) for r in report.refusals]
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        with admin_engine.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


@pytest.fixture
def ctx(app):
    from app.core.db import db
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


class World:
    """A fresh, self-contained scheme with its own organisations and users."""

    # Presets whose own chain a test world runs without being asked.  黔江 and 江津 worlds run the
    # default chain (department recommendation → bank) with the preset's numbers, which most of the
    # suite was written against; a test of their own chain asks for it: world(preset, own_chain=True).
    OWN_CHAIN_UNASKED = ("lingyuan_2020", "lingyuan_2020_draft", "yongchuan_2023")

    def __init__(self, preset: str, app, own_chain: bool | None = None):
        from app.accounts.models import Organisation, Sector
        from app.accounts.operations import create_user
        from app.core.db import db
        from app.core.uscc import make
        from app.demo import ensure_scheme

        n = next(_counter)
        tag = uuid.uuid4().hex[:6].upper()
        self.tag = tag
        self.app = app

        seq = itertools.count(1)

        def org(kind, name, **kw):
            o = Organisation(kind=kind, name=f"{name}{tag}", code=kw.pop("code", f"{kind}-{tag}-{next(seq)}"), **kw)
            db.session.add(o)
            db.session.flush()
            return o

        def user(o, name, supervisor=False):
            return create_user(o, f"{name}_{tag.lower()}", f"{name}{tag}", PASSWORD, is_supervisor=supervisor,
                               email=f"{name}_{tag.lower()}@example.test")

        self.dept = org("department", "测试经信委")
        self.dept2 = org("department", "测试农业委")
        self.sector = Sector(code=f"ind-{tag}", name=f"工业{tag}", department_id=self.dept.id)
        self.sector2 = Sector(code=f"agr-{tag}", name=f"农业{tag}", department_id=self.dept2.id)
        db.session.add_all([self.sector, self.sector2])
        db.session.flush()
        self.bank = org("bank", "测试银行甲")
        self.bank2 = org("bank", "测试银行乙")
        self.units = {k: org(kind, name) for k, kind, name in [
            ("finance", "finance_bureau", "财政局"), ("finoffice", "financial_office", "金融办"),
            ("centre", "service_centre", "服务中心"), ("guarantee", "guarantee", "担保公司"),
            ("pboc", "pboc", "人行"), ("cbirc", "regulator", "银保监"), ("gov", "district_government", "区政府")]}
        self.firm = org("enterprise", "测试企业", code=make(f"91500114MA{n:05d}{tag[:2]}"[:17].replace("O", "0").replace("I", "1")),
                        sector_id=self.sector.id)
        self.firm2 = org("enterprise", "他人企业", code=make(f"91500115MB{n:05d}{tag[:2]}"[:17].replace("O", "0").replace("I", "1")),
                         sector_id=self.sector2.id)
        for f in (self.firm, self.firm2):     # 凌源's gates read loaded credit data (app/credit/sources.py)
            give_credit_report(f, "A")
        self.admin_org = org("admin", "管理")
        self.scheme = ensure_scheme(preset, [self.bank, self.bank2], self.units, code=f"{preset}-{tag}")
        if own_chain if own_chain is not None else preset in self.OWN_CHAIN_UNASKED:
            from app.policies import bindings
            bindings.bind_preset(self.scheme)      # the scheme's own diagrams, as a new scheme gets them
        self.u = {
            "firm": user(self.firm, "firm"), "firm2": user(self.firm2, "firmb"),
            "dept": user(self.dept, "dept"), "dept2": user(self.dept2, "deptb"),
            "officer": user(self.bank, "officer"), "officer2": user(self.bank, "officerb"),
            "supervisor": user(self.bank, "super", supervisor=True), "other_bank": user(self.bank2, "otherbank"),
            "finance": user(self.units["finance"], "finance"), "finoffice": user(self.units["finoffice"], "finoffice"),
            "centre": user(self.units["centre"], "centre"), "guarantee": user(self.units["guarantee"], "guarantee"),
            "pboc": user(self.units["pboc"], "pboc"), "cbirc": user(self.units["cbirc"], "cbirc"),
            "gov": user(self.units["gov"], "gov"),
            "admin": user(self.admin_org, "admin"),
        }
        db.session.commit()

    def user(self, key):
        from app.accounts.models import User
        from app.core.db import db
        return db.session.get(User, self.u[key].id)


def give_credit_report(firm, rating="A", report_date="2025-01-15"):
    """A credit report of the firm as loaded from a source unit's file (without the file)."""
    import json as _json
    from app.core.db import db
    from app.credit.models import CreditRecord
    values = {"uscc": firm.code, "firm_name": firm.name, "period": "2024Q4", "report_no": f"T-{firm.id}-{rating}",
              "rating": rating, "issuer": "测试信用服务机构", "report_date": report_date}
    db.session.add(CreditRecord(enterprise_id=firm.id, uscc=firm.code, firm_name=firm.name, category="credit_report",
                                period="2024Q4", summary="", values_json=_json.dumps(values, ensure_ascii=False)))
    db.session.flush()


@pytest.fixture
def world(app, ctx):
    def make(preset="qianjiang_2018", own_chain=None):
        return World(preset, app, own_chain)
    return make


class Browser:
    """A logged-in HTTP client that carries the CSRF token."""

    def __init__(self, app, username, password=PASSWORD):
        self.client = app.test_client()
        self.username = username
        r = self.get("/login")
        self.csrf = self._token(r.data)
        r = self.post("/login", data={"username": username, "password": password})
        assert r.status_code == 302, f"login failed for {username}"
        self.csrf = self._token(self.get("/tasks/").data)

    @staticmethod
    def _token(html: bytes) -> str:
        m = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
            re.search(rb'name="csrf_token" value="([^"]+)"', html)
        assert m, "no CSRF token on page"
        return m.group(1).decode()

    @staticmethod
    def _fresh_g():
        # Tests hold an app context; Flask reuses it for test requests, so per-request state in
        # ``g`` (the logged-in user, the CSRF token) must not leak from one client to the next.
        from flask import g, has_app_context
        if has_app_context():
            g.__dict__.clear()

    def get(self, url, **kw):
        self._fresh_g()
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        self._fresh_g()
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        from flask.testing import EnvironBuilder
        builder = EnvironBuilder(self.client.application, path=url, method="POST", data=data, **kw)
        try:
            resp = self.client.open(builder)
            # werkzeug spools a large multipart body to a temporary file it never closes
            stream = resp.request.environ.get("wsgi.input")
            if stream is not None and hasattr(stream, "close"):
                stream.close()
            return resp
        finally:
            builder.close()


@pytest.fixture
def login(app):
    def _login(user):
        return Browser(app, user.username)
    return _login


def application_form(world, **over):
    data = {
        "scheme_id": str(world.scheme.id), "sector_id": str(world.sector.id), "amount": "1000000.00",
        "term_months": "12", "activity": "working_capital", "purpose": "采购原材料",
        "repayment_plan": "按月付息，到期还本", "repayment_source": "销售回款",
        "preferred_bank_id": str(world.bank.id), "credit_rating": "A", "first_loan": "y",
        "consent_bank_id": str(world.bank.id), "consent_purpose": "贷前调查",
        "consent_valid_until": (date.today() + timedelta(days=90)).isoformat(), "consent_agree": "y",
        "business_licence": (io.BytesIO(PDF), "licence.pdf"),
        "financial_statements": (io.BytesIO(PNG), "statements.png"),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}
