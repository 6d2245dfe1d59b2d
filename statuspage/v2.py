"""Atlassian Statuspage v2 objects, field for field (shared/reference/statuspage-v2.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse

from statuspage import selectors
from statuspage.models import (
    Component,
    Maintenance,
    PageSettings,
    PublicIncident,
)
from statuspage.selectors import GroupView, Rollup


def ts(value: datetime | None) -> str | None:
    """ISO 8601 with milliseconds and an offset, as Statuspage writes them."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _link(name: str, code: str) -> str:
    return settings.BASE_URL + reverse(f"statuspage:{name}", args=[code])


def page_json(page: PageSettings, updated_at: datetime | None = None) -> dict:
    return {
        "id": page.code,
        "name": page.name,
        "url": page.url or settings.BASE_URL,
        "time_zone": page.time_zone,
        "updated_at": ts(max(filter(None, [page.updated_at, updated_at]), default=None)),
    }


def component_json(component: Component, page_code: str, group_code: str | None = None) -> dict:
    return {
        "id": component.code,
        "name": component.name,
        "status": component.status,
        "created_at": ts(component.created_at),
        "updated_at": ts(component.updated_at),
        "position": component.position,
        "description": component.description or None,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": group_code,
        "page_id": page_code,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def group_json(view: GroupView, page_code: str) -> dict:
    group = view.group
    return {
        "id": group.code,
        "name": group.name,
        "status": view.status,
        "created_at": ts(group.created_at),
        "updated_at": ts(max([group.updated_at, *(c.updated_at for c in view.components)])),
        "position": group.position,
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_code,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.code for c in view.components],
    }


def components_json(tree: selectors.Tree, page_code: str) -> list[dict]:
    out = []
    for entry in tree.entries:
        if isinstance(entry, GroupView):
            out.append(group_json(entry, page_code))
            out.extend(component_json(c, page_code, entry.group.code) for c in entry.components)
        else:
            out.append(component_json(entry, page_code))
    return out


def _affected_component_json(component: Component, page_code: str) -> dict:
    # Affected components are listed bare: their group id, not the group (one query less).
    return component_json(component, page_code, None)


def incident_json(public: PublicIncident, page_code: str = "") -> dict:
    updates = list(public.updates.all())
    return {
        "id": public.code,
        "name": public.name,
        "status": public.status,
        "created_at": ts(public.created_at),
        "updated_at": ts(public.updated_at),
        "monitoring_at": ts(public.monitoring_at),
        "resolved_at": ts(public.resolved_at),
        "impact": public.impact,
        "shortlink": _link("incident", public.code),
        "started_at": ts(public.started_at),
        "page_id": page_code,
        "incident_updates": [
            {
                "id": u.code,
                "status": u.status,
                "body": u.body,
                "incident_id": public.code,
                "created_at": ts(u.created_at),
                "updated_at": ts(u.created_at),
                "display_at": ts(u.created_at),
                "affected_components": u.affected_components or None,
                "deliver_notifications": True,
            }
            for u in updates
        ],
        "components": [_affected_component_json(c, page_code) for c in public.components.all()],
    }


def maintenance_json(maintenance: Maintenance, page_code: str = "") -> dict:
    updates = list(maintenance.updates.all())
    return {
        "id": maintenance.code,
        "name": maintenance.name,
        "status": maintenance.status,
        "created_at": ts(maintenance.created_at),
        "updated_at": ts(maintenance.updated_at),
        "monitoring_at": None,
        "resolved_at": ts(maintenance.completed_at),
        "impact": "maintenance",
        "shortlink": _link("maintenance", maintenance.code),
        "started_at": ts(maintenance.started_at or maintenance.scheduled_for),
        "page_id": page_code,
        "incident_updates": [
            {
                "id": u.code,
                "status": u.status,
                "body": u.body,
                "incident_id": maintenance.code,
                "created_at": ts(u.created_at),
                "updated_at": ts(u.created_at),
                "display_at": ts(u.created_at),
                "affected_components": None,
                "deliver_notifications": True,
            }
            for u in updates
        ],
        "components": [
            _affected_component_json(c, page_code) for c in maintenance.components.all()
        ],
        "scheduled_for": ts(maintenance.scheduled_for),
        "scheduled_until": ts(maintenance.scheduled_until),
    }


def status_json(rollup: Rollup) -> dict:
    return {"indicator": rollup.indicator, "description": rollup.description}
