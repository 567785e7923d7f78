"""Acting as an agency's own user: the initial password from dcctl's delivery file, the change
Keystone demands before the first token, and a connection scoped to the agency's project."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from openstack import connection

NEW_PASSWORD = "Ch4nged-at-first-login!"


def initial_passwords(state: Path) -> dict[str, str]:
    """user name → password, from every delivery file under dcctl's state dir."""
    found: dict[str, str] = {}
    for file in (state / "credentials").glob("initial-passwords-*.txt"):
        for line in file.read_text().splitlines():
            if line and not line.startswith("#"):
                _, user, password = line.split("\t")
                found[user] = password
    return found


def login(entry: dict[str, Any], user: str, password: str, project: str) -> connection.Connection:
    auth = dict(entry["auth"])
    auth.update(
        username=user,
        password=password,
        user_domain_name="quangngai",
        project_name=project,
        project_domain_name="quangngai",
    )
    conn = connection.Connection(
        auth=auth, region_name=entry.get("region_name"), identity_api_version="3"
    )
    conn.authorize()
    return conn


def change_password(
    admin: connection.Connection, entry: dict[str, Any], user_id: str, old: str, new: str
) -> int:
    """The user's own password change (no token needed); returns the HTTP status."""
    response = admin.session.post(
        f"{entry['auth']['auth_url'].rstrip('/')}/users/{user_id}/password",
        json={"user": {"password": new, "original_password": old}},
        authenticated=False,
        raise_exc=False,
    )
    return int(response.status_code)


def first_login(
    admin: connection.Connection, entry: dict[str, Any], state: Path, user: str, project: str
) -> connection.Connection:
    """Change the delivered password as the user would, then log in."""
    found = admin.identity.get("/users", params={"name": user}).json()["users"]
    user_id = str(found[0]["id"])
    status = change_password(admin, entry, user_id, initial_passwords(state)[user], NEW_PASSWORD)
    if status != 204:
        raise AssertionError(f"password change for {user}: HTTP {status}")
    time.sleep(1.1)  # the change revokes the user's older tokens, to the second
    return login(entry, user, NEW_PASSWORD, project)
