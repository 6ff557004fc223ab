"""What one department review costs the database over HTTP, and the checks that stay with it.

The POST locks the task's instance and re-reads the task under the lock (no separate read for the
404 check, no refresh, no query of open tasks when the step is stored); the bank is checked by the
operation against the scheme, not against page choices loaded for a page a valid POST never shows.
"""
from __future__ import annotations

import threading

from sqlalchemy import event, func, select

from app.accounts.models import Organisation
from app.applications.models import LoanApplication
from app.core.audit import TimelineEvent
from app.core.db import db
from app.workflow.models import HumanTask
from tests.conftest import application_form

OPINION = "经营正常，信用良好，符合产业方向"


def _submitted(world, login):
    firm = login(world.user("firm"))
    r = firm.post("/applications/new", data=application_form(world), content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:2000]
    a = db.session.scalar(select(LoanApplication).where(LoanApplication.enterprise_id == world.firm.id))
    t = db.session.scalar(select(HumanTask).where(HumanTask.subject_type == "loan_application",
                                                  HumanTask.subject_id == a.id, HumanTask.status == "open",
                                                  HumanTask.form_key == "department_review"))
    return a.id, t.id


class _Statements:
    """SELECT / INSERT / UPDATE / DELETE statements sent while the block runs (not BEGIN or COMMIT)."""

    def __enter__(self):
        self.sql: list[str] = []
        self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            self.sql.append(" ".join(statement.split()))

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_department_review_post_is_seven_statements_on_postgresql(world, login):
    w = world()
    app_id, task_id = _submitted(w, login)
    dept = login(w.user("dept"))
    bank_id = w.bank.id
    form = {"decision": "recommend", "opinion": OPINION, "bank_id": str(bank_id)}
    db.session.remove()        # the request starts with an empty session, as in a web worker
    with _Statements() as s:
        r = dept.post(f"/tasks/{task_id}", data=form)
    assert r.status_code == 302 and r.headers["Location"].rstrip("/").endswith("/tasks")
    # the user with its organisation; the instance lock; the task with the instance's open tasks; the
    # application joined to the scheme-bank check; then the writes: the timeline and the application (the
    # flush), and the engine's rows (app/workflow/rows.py) — the instance, the completed task and the next
    # task, its form version looked up inside the INSERT — as one statement on PostgreSQL, three on SQLite
    engine_writes = 1 if db.engine.dialect.name == "postgresql" else 3
    assert len(s.sql) <= 6 + engine_writes, "\n".join(s.sql)
    writes = [i for i, q in enumerate(s.sql) if not q.startswith("SELECT")]
    assert writes == list(range(writes[0], len(s.sql))), "a query between the step's writes:\n" + "\n".join(s.sql)
    db.session.expire_all()
    a = db.session.get(LoanApplication, app_id)
    assert a.status == "recommended" and a.recommended_bank_id == bank_id
    assert db.session.get(HumanTask, task_id).status == "completed"
    nxt = db.session.scalar(select(HumanTask).where(HumanTask.subject_type == "loan_application",
                                                    HumanTask.subject_id == app_id, HumanTask.status == "open"))
    assert nxt.form_key == "bank_due_diligence" and nxt.org_id == bank_id


def test_a_bank_outside_the_scheme_is_refused_whatever_the_decision(world, login):
    w = world()
    outsider = Organisation(kind="bank", name=f"方案外银行{w.tag}", code=f"bank-out-{w.tag}")
    db.session.add(outsider)
    db.session.commit()
    app_id, task_id = _submitted(w, login)
    dept = login(w.user("dept"))
    for decision in ("recommend", "return", "reject"):
        r = dept.post(f"/tasks/{task_id}", data={"decision": decision, "opinion": OPINION,
                                                 "bank_id": str(outsider.id)})
        assert r.status_code == 400, decision
        page = r.data.decode()
        assert "请选择推荐的合作银行" in page
        assert w.bank.name in page and outsider.name not in page     # the page's choices are the scheme's banks
    r = dept.post(f"/tasks/{task_id}", data={"decision": "recommend", "opinion": OPINION, "bank_id": "0"})
    assert r.status_code == 400 and "请选择推荐的合作银行" in r.data.decode()
    db.session.expire_all()
    assert db.session.get(LoanApplication, app_id).status == "submitted"
    assert db.session.get(HumanTask, task_id).status == "open"
    assert db.session.scalar(select(func.count()).select_from(TimelineEvent).where(
        TimelineEvent.subject_type == "loan_application", TimelineEvent.subject_id == app_id,
        TimelineEvent.action.like("department_%"))) == 0


def test_another_departments_post_gets_404_and_changes_nothing(world, login):
    w = world()
    app_id, task_id = _submitted(w, login)
    other = login(w.user("dept2"))
    r = other.post(f"/tasks/{task_id}", data={"decision": "recommend", "opinion": OPINION,
                                              "bank_id": str(w.bank.id)})
    assert r.status_code == 404
    assert other.post(f"/tasks/{task_id}/claim").status_code == 404
    db.session.expire_all()
    assert db.session.get(HumanTask, task_id).status == "open"


def test_two_posts_of_one_department_review_at_once_one_takes_effect(world, login, app):
    w = world()
    app_id, task_id = _submitted(w, login)
    clients = [login(w.user("dept")), login(w.user("dept"))]
    bank_id = str(w.bank.id)
    db.session.rollback()          # this thread holds no transaction while the two requests run
    barrier = threading.Barrier(2)
    answers = []

    def post(client, decision):
        with app.app_context():
            barrier.wait()
            r = client.post(f"/tasks/{task_id}", data={"decision": decision, "opinion": OPINION,
                                                       "bank_id": bank_id})
            answers.append(r.status_code)
            db.session.remove()

    threads = [threading.Thread(target=post, args=(c, d)) for c, d in zip(clients, ("recommend", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [302, 302]       # the loser is told the task was done (a redirect with a message)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TimelineEvent).where(
        TimelineEvent.subject_type == "loan_application", TimelineEvent.subject_id == app_id,
        TimelineEvent.action.like("department_%"))) == 1
    assert db.session.get(HumanTask, task_id).status == "completed"
    status = db.session.get(LoanApplication, app_id).status
    open_next = db.session.scalars(select(HumanTask.form_key).where(
        HumanTask.subject_type == "loan_application", HumanTask.subject_id == app_id,
        HumanTask.status == "open")).all()
    assert (status, open_next) in (("recommended", ["bank_due_diligence"]), ("rejected", []))
