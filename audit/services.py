"""Writing the audit log. Nothing here updates or deletes: the database would refuse."""

from contextvars import ContextVar
from typing import Any

from django.db import models

from audit.models import AuditEvent

# Who is making the current request: set by AuditActorMiddleware, read by the receivers,
# which see model saves but not the request that caused them.
current_request: ContextVar = ContextVar("audit_current_request", default=None)


def _address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def audit_record(
    *,
    action: str,
    actor=None,
    actor_name: str = "",
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    request=None,
) -> AuditEvent:
    request = request if request is not None else current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor_name or (actor.get_username() if actor else ""),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        address=_address(request),
        data=data or {},
    )
