"""What a handler needs while applying one agency: APIs, ids resolved so far, delivery."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from dcctl.cloud.rest import Apis
from dcctl.errors import CloudError
from dcctl.reconcile.model import Ref
from dcctl.spec.agency import Agency
from dcctl.spec.inventory import Site
from dcctl.tenant.credentials import CredentialDelivery
from dcctl.tenant.kinds import PROJECT
from dcctl.tenant.snapshot import Snapshot


class IdMap:
    """Ref → cloud id, filled from the snapshot and by every create; shared by worker threads."""

    def __init__(self, initial: dict[Ref, str] | None = None) -> None:
        self._ids = dict(initial or {})
        self._lock = threading.Lock()

    def __setitem__(self, ref: Ref, value: str) -> None:
        with self._lock:
            self._ids[ref] = value

    def get(self, ref: Ref) -> str | None:
        with self._lock:
            return self._ids.get(ref)

    def require(self, ref: Ref) -> str:
        value = self.get(ref)
        if not value:
            raise CloudError(f"{ref} has no id yet (it was not created)")
        return value


@dataclass
class ApplyContext:
    apis: Apis
    site: Site
    agency: Agency
    snapshot: Snapshot
    ids: IdMap
    delivery: CredentialDelivery
    rule_descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def domain_id(self) -> str:
        return str(self.snapshot.domain["id"])

    @property
    def project_id(self) -> str:
        return self.ids.require(Ref(PROJECT, self.agency.code))

    def role_id(self, name: str) -> str:
        role = self.snapshot.role_id(name)
        if role is None:
            raise CloudError(f"role '{name}' does not exist in the cloud")
        return role

    def external_network_id(self) -> str:
        if not self.snapshot.external_network:
            raise CloudError(
                f"external network '{self.site.config.external_network.name}' does not exist"
            )
        return str(self.snapshot.external_network["id"])
