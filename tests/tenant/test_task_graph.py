"""How one agency's plan becomes tasks: a security group's new rules are one task (one bulk
request) that waits for everything each of them waits for; nothing else is merged."""

from __future__ import annotations

import pytest

from dcctl.reconcile.model import Action, Change, Ref
from dcctl.tenant import kinds
from dcctl.tenant.apply import _TaskGraph

pytestmark = pytest.mark.unit

PROJECT = Ref(kinds.PROJECT, "so")
QUOTA = Ref(kinds.QUOTA, "network")
WEB = Ref(kinds.SECURITY_GROUP, "web")
DB = Ref(kinds.SECURITY_GROUP, "db")


def _rule(
    group: str, port: int, *, remote: Ref | None = None, action: Action = Action.CREATE
) -> Change:
    after = {"group": group, "direction": "ingress", "port_min": port}
    deps = (Ref(kinds.SECURITY_GROUP, group), QUOTA, *((remote,) if remote else ()))
    return Change(
        Ref(kinds.RULE, f"{group}/tcp/{port}"),
        action,
        after=after if action is not Action.DELETE else None,
        before=after if action is Action.DELETE else None,
        resource_id="r-1" if action is Action.DELETE else None,
        depends_on=deps,
    )


def _create(ref: Ref, *deps: Ref) -> Change:
    return Change(ref, Action.CREATE, after={"name": ref.key}, depends_on=deps)


def test_rules_of_one_group_become_one_task_with_all_their_dependencies() -> None:
    changes = [
        _create(PROJECT),
        _create(QUOTA, PROJECT),
        _create(WEB, PROJECT, QUOTA),
        _create(DB, PROJECT, QUOTA),
        _rule("web", 443),
        _rule("web", 80),
        _rule("db", 5432, remote=WEB),
        _rule("db", 22),
    ]
    graph = _TaskGraph(changes)
    web_task = Ref(kinds.RULE, "web/tcp/443")
    db_task = Ref(kinds.RULE, "db/tcp/5432")
    assert set(graph.tasks) == {PROJECT, QUOTA, WEB, DB, web_task, db_task}
    assert [c.ref.key for c in graph.members(web_task)] == ["web/tcp/443", "web/tcp/80"]
    assert [c.ref.key for c in graph.members(db_task)] == ["db/tcp/5432", "db/tcp/22"]
    assert graph.tasks[db_task][1] == {DB, QUOTA, WEB}
    assert graph.tasks[web_task][1] == {WEB, QUOTA}
    assert graph.tasks[WEB][1] == {PROJECT, QUOTA}


def test_a_lone_rule_and_deletions_stay_single_tasks() -> None:
    lone = _rule("web", 443)
    gone = [_rule("db", 22, action=Action.DELETE), _rule("db", 23, action=Action.DELETE)]
    graph = _TaskGraph([lone, *gone])
    assert set(graph.tasks) == {lone.ref, *(change.ref for change in gone)}
    assert all(len(members) == 1 for members, _ in graph.tasks.values())


def test_a_change_waiting_on_a_batched_rule_waits_on_its_batch() -> None:
    first, second = _rule("web", 443), _rule("web", 80)
    follower = Change(Ref(kinds.RULE, "later"), Action.UPDATE, depends_on=(second.ref,))
    graph = _TaskGraph([first, second, follower])
    assert graph.tasks[follower.ref][1] == {first.ref}
