"""Who works on a user task: the assignee rule a diagram gives, checked at deploy and applied at run time.

A user task names its organisation in one of these ways (the first that is present wins):

1. ``assignTo`` (a ``spiffworkflow:property``): an expression over the task data giving the
   organisation's id, e.g. ``bank_org_id``.
2. ``orgKind`` (property, optionally with ``schemeRole``), or Camunda's ``candidateGroups``
   (``camunda:candidateGroups="finance_bureau"`` or ``"finance_bureau:guarantee"`` =
   kind:scheme-member role), or the task's lane when the lane's id (``lane_<kind>``) or name is an
   organisation kind.  At run time the task goes to the one organisation of that kind that is a
   member of the instance's scheme (task data ``scheme_id``) in that role (the kind itself unless a
   role is given); failing that, to the organisation whose id the task data holds as
   ``<kind>_org_id``.  No single such organisation stops the step with a message.

A task with none of these is refused at deploy.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import Organisation, OrgKind
from app.core.db import db
from app.core.i18n import _
from app.policies.models import SchemeMember
from app.policies.params import KNOWN_ROLES

ORG_KINDS = frozenset(k.value for k in OrgKind)


class AssignmentError(Exception):
    """No organisation can be found for a task; the message names the task and the rule."""


@dataclass(frozen=True)
class Rule:
    """A task's assignee rule: an expression, or an organisation kind (and scheme role)."""
    expression: str | None = None
    kind: str | None = None
    role: str | None = None
    source: str = ""          # assignTo | orgKind | candidateGroups | lane (for messages)


def lane_kind(lane_id: str | None, lane_name: str | None) -> str | None:
    """The organisation kind a lane names: its id ``lane_<kind>``, or its name, is a kind."""
    candidates = []
    if lane_id:
        candidates += [lane_id, lane_id[5:] if lane_id.lower().startswith("lane_") else None]
    if lane_name:
        candidates.append(lane_name.strip())
    for c in candidates:
        if c and c in ORG_KINDS:
            return c
    return None


def rule_of(props: dict) -> tuple[Rule | None, str | None]:
    """The rule the properties give, or (None, reason) when they give none or a wrong one."""
    if props.get("assignTo"):
        return Rule(expression=props["assignTo"], kind=props.get("orgKind") or None, source="assignTo"), None
    if props.get("orgKind"):
        kind, role = props["orgKind"].strip(), (props.get("schemeRole") or "").strip() or None
        source = "orgKind"
    elif props.get("candidateGroups"):
        groups = [g.strip() for g in props["candidateGroups"].split(",") if g.strip()]
        if len(groups) != 1:
            return None, _("candidateGroups 只能写一个组织类型（可加“:成员角色”），当前为“{v}”").format(
                v=props["candidateGroups"])
        kind, _sep, role = groups[0].partition(":")
        kind, role, source = kind.strip(), role.strip() or None, "candidateGroups"
    elif props.get("laneKind"):
        kind, role, source = props["laneKind"], None, "lane"
    else:
        return None, _("用户任务没有指派规则：请设置 assignTo、orgKind、candidateGroups，或放入以组织类型命名的泳道")
    if kind not in ORG_KINDS:
        return None, _("“{v}”不是组织类型（可用：{known}）").format(v=kind, known="、".join(sorted(ORG_KINDS)))
    if role is not None and role not in KNOWN_ROLES:
        return None, _("“{v}”不是政策成员角色（可用：{known}）").format(v=role, known="、".join(KNOWN_ROLES))
    return Rule(kind=kind, role=role, source=source), None


def organisation_for(rule: Rule, data: dict, task_name: str) -> int:
    """The organisation a kind rule gives for an instance with ``data`` (see the module text).

    With the instance's scheme known: its one member of that kind in that role; where it has several (the
    banks of a scheme), the one the data names as ``<kind>_org_id`` — which must be one of them, so a
    task never lands with a bank of another scheme.  Without a scheme: the data's ``<kind>_org_id``, which
    must be an organisation of that kind."""
    role = rule.role or rule.kind
    scheme_id = data.get("scheme_id")
    members: list[int] = []
    if scheme_id is not None:
        members = list(db.session.scalars(
            select(Organisation.id).join(SchemeMember, SchemeMember.organisation_id == Organisation.id)
            .where(SchemeMember.scheme_id == int(scheme_id), SchemeMember.role == role,
                   Organisation.kind == rule.kind).order_by(Organisation.id)))
        if len(members) == 1:
            return members[0]
    fallback = data.get(f"{rule.kind}_org_id")
    if fallback is not None:
        try:
            org_id = int(fallback)
        except (TypeError, ValueError):
            org_id = None
        if members:
            if org_id in members:
                return org_id
            raise AssignmentError(_("“{task}”找不到办理单位：流程数据中的 {kind}_org_id（{v}）不是本政策中角色为 {role}、"
                                    "类型为 {kind} 的成员单位").format(task=task_name, kind=rule.kind, v=fallback, role=role))
        org = db.session.get(Organisation, org_id) if org_id is not None else None
        if org is not None and org.kind == rule.kind:
            return org.id
        raise AssignmentError(_("“{task}”找不到办理单位：流程数据中的 {kind}_org_id（{v}）不是类型为 {kind} 的单位").format(
            task=task_name, kind=rule.kind, v=fallback))
    raise AssignmentError(_("“{task}”找不到办理单位：本政策中角色为 {role}、类型为 {kind} 的成员单位不是唯一一家，"
                            "流程数据中也没有 {kind}_org_id。请在流程图中用 assignTo 指定。").format(
        task=task_name, role=role, kind=rule.kind))
