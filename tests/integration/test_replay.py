"""Replay before go-live: every preset's worked examples pass through its rules and bound diagrams,
a wrong expectation is reported with its difference, and nothing stays in the database."""
import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.policies import bindings, replay
from app.policies.presets import preset_codes
from tests.e2e.conftest import retire_new_schemes  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("retire_new_schemes")


def _explain(report):
    return "\n".join(f"{r.example.name}: {r.error or ''} " + "; ".join(
        f"{d.key}: expected {d.expected!r}, actual {d.actual!r}" for d in r.differences)
        for r in report.failures)


@pytest.mark.parametrize("code", preset_codes())
def test_every_preset_replays_its_examples(world, code):
    w = world(code)
    assert w.scheme.params.examples, f"preset {code} ships no worked examples"
    report = replay.replay(w.scheme)
    assert report.passed, _explain(report)
    # a preset whose seed gives no sharing ratio (永川) cannot have a worked compensation example
    kinds = {"payout_due"} if w.scheme.params.missing_for_go_live() else {"compensation", "payout_due"}
    assert {r.example.kind for r in report.results} >= kinds
    ran = [r for r in report.results if r.example.kind == "compensation"]
    bound = bindings.binding(w.scheme, "compensation").process_id    # the shared diagram or the preset's own
    assert bound.startswith("compensation")
    if code.startswith("lingyuan"):
        assert bound == "compensation_lingyuan"
    assert all(r.process.startswith(f"{bound} v") for r in ran)


def test_a_planted_wrong_expectation_is_reported_with_the_difference(world):
    w = world("qianjiang_2018")
    examples = [e.model_dump(mode="json") for e in w.scheme.params.examples]
    examples[0]["expected"]["fund_due"] = "425000.01"          # the right answer is 425,000.00
    examples[-1]["expected"]["due"] = "2025-02-06"              # one working day short
    report = replay.replay(w.scheme, examples)
    assert not report.passed
    bad = {r.example.name: r for r in report.failures}
    assert len(bad) == 2
    first = bad[examples[0]["name"]]
    assert [(d.key, d.expected, d.actual) for d in first.differences] == [("fund_due", "425000.01", "425000.00")]
    assert [(d.key, d.actual) for d in bad[examples[-1]["name"]].differences] == [("due", "2025-02-07")]
    assert all(r.passed for r in report.results if r.example.name not in bad)


def _counts():
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_replay_leaves_no_rows_behind(world):
    w = world("jiangjin_2020")
    db.session.commit()
    before = _counts()
    report = replay.replay(w.scheme)
    assert report.passed, _explain(report)
    assert _counts() == before
    db.session.commit()                       # even a commit after the replay stores nothing of it
    assert _counts() == before
