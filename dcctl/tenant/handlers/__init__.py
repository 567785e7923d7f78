"""Writers, one per resource kind, registered by kind id.

A handler turns one planned ``Change`` into API calls. Creates go through ``create_once`` with a
lookup by the resource's marker, so a lost answer or a crash never produces a duplicate.
"""

from __future__ import annotations

from dcctl.tenant.handlers import identity, networking, quotas, secgroups
from dcctl.tenant.handlers.base import HANDLERS, Handler

__all__ = ["HANDLERS", "Handler", "handler_for", "identity", "networking", "quotas", "secgroups"]


def handler_for(kind: str) -> Handler:
    return HANDLERS.get(kind)
