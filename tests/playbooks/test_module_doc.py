"""The dcctl_tenant module without a cloud: its documentation agrees with its argument spec and
its results, ansible-doc reads it, the playbook parses, and the diff reads well."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from types import ModuleType
from typing import Any

import pytest
import yaml

from dcctl.reconcile.model import Action, Change, FieldChange, Ref
from dcctl.tenant.engine import ApplyReport
from dcctl.tenant.planner import AgencyPlan, SitePlan
from tests.playbooks.conftest import LIBRARY, PLAYBOOK, ansible_env, ansible_tool
from tests.support.sites import REPO

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dcctl_tenant", LIBRARY / "dcctl_tenant.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    assert loaded.DCCTL_IMPORT_ERROR is None
    return loaded


def _doc(module: ModuleType, name: str) -> Any:
    return yaml.safe_load(getattr(module, name))


def test_documented_options_match_the_argument_spec(module: ModuleType) -> None:
    options = _doc(module, "DOCUMENTATION")["options"]
    spec = module.ARGUMENT_SPEC
    assert set(options) == set(spec)
    for name, arg in spec.items():
        doc = options[name]
        assert doc["type"] == arg["type"], name
        assert doc.get("required", False) == arg.get("required", False), name
        assert doc.get("default") == arg.get("default"), name
        assert doc.get("elements") == arg.get("elements"), name
        assert doc.get("choices") == arg.get("choices"), name
        assert doc.get("no_log", False) == arg.get("no_log", False), name
        assert doc["description"], name
    # The environment fallback of `cloud` is documented.
    assert "OS_CLOUD" in " ".join(options["cloud"]["description"])


def test_examples_use_documented_options(module: ModuleType) -> None:
    options = set(_doc(module, "DOCUMENTATION")["options"])
    tasks = _doc(module, "EXAMPLES")
    used = [task["dcctl_tenant"] for task in tasks if "dcctl_tenant" in task]
    assert used
    for args in used:
        assert set(args) <= options, args


def test_playbook_passes_documented_options(module: ModuleType) -> None:
    options = set(_doc(module, "DOCUMENTATION")["options"])
    (play,) = yaml.safe_load(PLAYBOOK.read_text(encoding="utf-8"))
    assert set(play["module_defaults"]["dcctl_tenant"]) <= options
    assert play["hosts"] == "localhost" and play["connection"] == "local"
    assert play["vars"]["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"


def _plan() -> SitePlan:
    agency = AgencyPlan(
        scope="soyte",
        name="Sở Y tế",
        changes=[
            Change(Ref("project", "soyte"), Action.CREATE, after={"name": "soyte", "tags": []}),
            Change(
                Ref("quota", "compute"),
                Action.UPDATE,
                resource_id="p1",
                before={"cores": 4, "ram": 8192},
                after={"cores": 6},
                fields=(FieldChange("cores", 4, 6),),
            ),
            Change(
                Ref("security_group_rule", "web ingress IPv4 tcp 3389 from any"),
                Action.DELETE,
                resource_id="r1",
                before={"port_min": 3389, "protocol": "tcp"},
                note="not in the spec",
            ),
            Change(
                Ref("network", "soyte-app"),
                Action.ADOPT,
                resource_id="n1",
                before={"name": "soyte-app"},
                after={"name": "soyte-app"},
            ),
            Change(Ref("router", "soyte-router"), Action.NOOP, resource_id="x"),
        ],
    )
    quiet = AgencyPlan(scope="congan", name="Công an")
    return SitePlan(
        site="quangngai", cloud="sandbox", auth_url="http://k", agencies=[agency, quiet]
    )


def test_diff_shows_cloud_before_and_spec_after(module: ModuleType) -> None:
    result = module.plan_result(_plan(), with_diff=True)
    (diff,) = result["diff"]  # agencies without changes have none
    assert diff["before_header"] == "soyte on cloud sandbox"
    assert diff["after_header"] == "soyte in site quangngai"
    assert diff["before"].splitlines() == [
        "quota compute:",
        "  cores: 4",
        "security_group_rule web ingress IPv4 tcp 3389 from any:  # not in the spec",
        "  port_min: 3389",
        '  protocol: "tcp"',
        "network soyte-app:",
        "  managed by dcctl: false",
    ]
    assert diff["after"].splitlines() == [
        "project soyte:",
        '  name: "soyte"',
        "quota compute:",
        "  cores: 6",
        "network soyte-app:",
        "  managed by dcctl: true",
    ]
    assert "diff" not in module.plan_result(_plan(), with_diff=False)


def test_results_are_documented(module: ModuleType) -> None:
    returned = set(_doc(module, "RETURN"))
    keys = set(module.plan_result(_plan(), with_diff=False))
    keys |= set(module.report_result(ApplyReport()))
    keys |= {"changed", "hint", "error_kind", "problems"}
    assert keys <= returned
    assert returned - keys == set()
    assert module.report_result(ApplyReport()) == {
        "results": [],
        "initial_passwords_file": None,
        "new_users": [],
    }
    json.dumps(module.plan_result(_plan(), with_diff=True))  # plain JSON for Ansible


def test_ansible_doc_reads_the_module(module: ModuleType) -> None:
    env = ansible_env()
    text = subprocess.run(
        [ansible_tool("ansible-doc"), "-M", str(LIBRARY), "dcctl_tenant"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert text.returncode == 0, text.stderr
    assert "WARNING" not in text.stderr and "ERROR" not in text.stderr, text.stderr
    assert "Plans and applies the keystone projects" in text.stdout
    assert "wait_lock" in text.stdout and "RETURN VALUES" in text.stdout
    data = subprocess.run(
        [ansible_tool("ansible-doc"), "--json", "-M", str(LIBRARY), "dcctl_tenant"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert data.returncode == 0, data.stderr
    doc = json.loads(data.stdout)["dcctl_tenant"]
    assert set(doc["doc"]["options"]) == set(module.ARGUMENT_SPEC)
    assert doc["return"] and doc["examples"]


def test_playbook_syntax() -> None:
    checked = subprocess.run(
        [ansible_tool("ansible-playbook"), "--syntax-check", str(PLAYBOOK)],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=REPO,
        check=False,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
