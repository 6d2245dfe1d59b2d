"""Atom and RSS feeds of incident and maintenance history (public rows only)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from statuspage import selectors, services
from statuspage.models import Maintenance, PublicIncident

FEED_ITEMS = 50


class HistoryRss(Feed):
    description = "Incidents and scheduled maintenance, newest first."

    def title(self) -> str:
        return f"{services.page_settings().name} history"

    def link(self) -> str:
        return reverse("statuspage:index")

    def items(self) -> list[PublicIncident | Maintenance]:
        incidents = list(selectors.public_incidents()[:FEED_ITEMS])
        maintenances = list(selectors.maintenances()[:FEED_ITEMS])
        merged = sorted(incidents + maintenances, key=self.item_pubdate, reverse=True)
        return merged[:FEED_ITEMS]

    def item_title(self, item) -> str:
        return item.name

    def item_description(self, item) -> str:
        return render_to_string("statuspage/feed_item.html", {"item": item})

    def item_link(self, item) -> str:
        name = "maintenance" if isinstance(item, Maintenance) else "incident"
        return reverse(f"statuspage:{name}", args=[item.code])

    def item_guid(self, item) -> str:
        return f"{settings.BASE_URL}{self.item_link(item)}"

    def item_pubdate(self, item):
        return item.scheduled_for if isinstance(item, Maintenance) else item.started_at

    def item_updateddate(self, item):
        return item.updated_at


class HistoryAtom(HistoryRss):
    feed_type = Atom1Feed
    subtitle = HistoryRss.description
