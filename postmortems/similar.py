"""Similar past incidents: PostgreSQL full-text search, with a plain fallback on SQLite.

Each incident's document is weighted: title and error codes A, service name B,
description C. The query is the incident's own title, error codes and service, OR-ed, so
a past incident that shares more (and more important) words ranks higher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q, Value

from incidents.models import Incident, Runbook
from postmortems.models import IncidentDocument

CONFIG = "english"
_WORD = re.compile(r"[A-Za-z0-9_]{2,}")
_STOP = frozenset({"the", "and", "for", "with", "from", "was", "are", "not", "but", "this", "that"})


@dataclass
class Match:
    incident: Incident
    score: float


def _tokens(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall(text or ""):
            word = word.lower()
            if word not in _STOP:
                seen.setdefault(word, None)
    return list(seen)[:32]


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def document_refresh(*, incident: Incident) -> None:
    if not _is_postgres():
        return
    service = incident.service.name if incident.service_id else ""
    document = (
        SearchVector(Value(incident.title), weight="A", config=CONFIG)
        + SearchVector(Value(incident.error_codes), weight="A", config=CONFIG)
        + SearchVector(Value(service), weight="B", config=CONFIG)
        + SearchVector(Value(incident.description), weight="C", config=CONFIG)
    )
    # One upsert: update_or_create costs a locking read and two savepoints besides, and
    # this runs for every incident created or edited.
    IncidentDocument.objects.bulk_create(
        [IncidentDocument(incident=incident, document=document)],
        update_conflicts=True,
        unique_fields=["incident"],
        update_fields=["document"],
    )


def documents_rebuild(*, first_id: int = 0) -> int:
    """Index every incident from `first_id` on in one statement (after a bulk load)."""
    if not _is_postgres():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO postmortems_incidentdocument (incident_id, document)
            SELECT i.id,
                   setweight(to_tsvector(%s, coalesce(i.title, '')), 'A')
                || setweight(to_tsvector(%s, coalesce(i.error_codes, '')), 'A')
                || setweight(to_tsvector(%s, coalesce(s.name, '')), 'B')
                || setweight(to_tsvector(%s, coalesce(i.description, '')), 'C')
            FROM incidents_incident i LEFT JOIN incidents_service s ON s.id = i.service_id
            WHERE i.id >= %s
            ON CONFLICT (incident_id) DO UPDATE SET document = EXCLUDED.document
            """,
            [*[CONFIG] * 4, first_id],
        )
        return cursor.rowcount


def similar_incidents(incident: Incident, *, user=None, limit: int = 5) -> list[Match]:
    """The most similar other incidents that `user` may see, best first."""
    service = incident.service.name if incident.service_id else ""
    words = _tokens(incident.title, incident.error_codes, service)
    if not words:
        return []
    find = _similar_postgres if _is_postgres() else _similar_plain
    # Over-fetch: private incidents the user may not see are dropped afterwards.
    matches = find(incident, words, limit * 3)
    if user is not None:
        visible = set(
            Incident.objects.visible_to(user)
            .filter(pk__in=[m.incident.pk for m in matches])
            .values_list("pk", flat=True)
        )
        matches = [m for m in matches if m.incident.pk in visible]
    return matches[:limit]


def _similar_postgres(incident: Incident, words: list[str], limit: int) -> list[Match]:
    # Words are [A-Za-z0-9_] only, so the raw tsquery cannot be malformed.
    query = SearchQuery(" | ".join(words), search_type="raw", config=CONFIG)
    rows = list(
        IncidentDocument.objects.filter(document=query)
        .exclude(incident_id=incident.pk)
        .annotate(rank=SearchRank(F("document"), query))
        .order_by("-rank", "-incident_id")
        .values_list("incident_id", "rank")[:limit]
    )
    by_pk = _incidents([pk for pk, _ in rows])
    return [Match(by_pk[pk], round(rank, 4)) for pk, rank in rows if pk in by_pk]


def _similar_plain(incident: Incident, words: list[str], limit: int) -> list[Match]:
    """SQLite: candidates sharing a word, scored in Python with the same weights."""
    match = Q()
    for word in words[:8]:
        match |= Q(title__icontains=word) | Q(error_codes__icontains=word)
    candidates = (
        Incident.objects.filter(match)
        .exclude(pk=incident.pk)
        .select_related("service")
        .order_by("-id")[:500]
    )
    wanted = set(words)
    scored = []
    for other in candidates:
        score = (
            1.0 * len(wanted & set(_tokens(other.title, other.error_codes)))
            + 0.4 * len(wanted & set(_tokens(other.service.name if other.service_id else "")))
            + 0.2 * len(wanted & set(_tokens(other.description)))
        )
        if score:
            scored.append((score, other.pk))
    scored.sort(reverse=True)
    by_pk = _incidents([pk for _, pk in scored[:limit]])
    return [Match(by_pk[pk], score) for score, pk in scored[:limit]]


def _incidents(pks: list[int]) -> dict[int, Incident]:
    qs = Incident.objects.filter(pk__in=pks).select_related("service", "postmortem")
    return {i.pk: i for i in qs}


def matching_runbooks(incident: Incident) -> list[Runbook]:
    match = Q(pk__in=[])
    if incident.service_id:
        match |= Q(services=incident.service_id)
    if incident.category_id:
        match |= Q(categories=incident.category_id)
    return list(Runbook.objects.filter(match).distinct().prefetch_related("steps")[:5])
