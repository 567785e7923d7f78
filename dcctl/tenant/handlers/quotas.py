"""Per-project quotas: PUT is idempotent, so create and update are the same call."""

from __future__ import annotations

from dcctl.cloud.retry import retry_read
from dcctl.errors import CloudError
from dcctl.reconcile.model import Change
from dcctl.tenant import kinds
from dcctl.tenant.context import ApplyContext
from dcctl.tenant.handlers.base import HANDLERS
from dcctl.tenant.snapshot import NEUTRON_QUOTA_NAMES


class QuotaHandler:
    def _values(self, change: Change) -> dict[str, int]:
        if change.action.value == "create":
            return dict(change.after or {})
        return {f.field: f.new for f in change.fields}

    def create(self, ctx: ApplyContext, change: Change) -> str:
        values = self._values(change)
        project_id = ctx.project_id
        section = change.ref.key
        if section == "compute":
            retry_read(
                lambda: ctx.apis.compute.put(f"/os-quota-sets/{project_id}", {"quota_set": values}),
                what="compute quota",
            )
        elif section == "volume":
            retry_read(
                lambda: ctx.apis.volume.put(f"/os-quota-sets/{project_id}", {"quota_set": values}),
                what="volume quota",
            )
        elif section == "network":
            body = {"quota": {NEUTRON_QUOTA_NAMES[k]: v for k, v in values.items()}}
            retry_read(
                lambda: ctx.apis.network.put(f"/quotas/{project_id}", body), what="network quota"
            )
        else:
            raise CloudError(f"unknown quota section '{section}'")
        return project_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        self.create(ctx, change)

    adopt = update

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        return None  # quotas go with the project


HANDLERS.register(kinds.QUOTA, QuotaHandler())
