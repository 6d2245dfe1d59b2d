"""The one place where control passes from `incidents` to the apps that build on it.

`incident_event` is sent only by `services.announce_event` (which `record_event` calls),
inside the transaction that changed the incident, with `event` (the new TimelineEvent).
Receivers live in each app's `receivers.py` and add their own rows in that same
transaction; anything that leaves the process must go through an outbox row and
`transaction.on_commit`. One exception: an alert repeat (`alert_attached`, written with
its alert's count by one statement that changes no incident) is announced just after that
statement, with its incident not loaded; no receiver acts on that kind.
"""

from django.dispatch import Signal

incident_event = Signal()

# Sent by bulk loads that write incidents without the services (`manage.py seed`), with
# `first_id`: the new incidents are those from it on, for apps to index in bulk.
incidents_loaded = Signal()
