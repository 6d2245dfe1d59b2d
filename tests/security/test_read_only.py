"""Read-only fields cannot be written, on every object the API lets anyone PATCH.

The operations and their read-only fields come from the schema, and the objects from the
demo data (every app's demo command), so a new endpoint or field joins by existing.
"""

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from incidents import services as incident_services
from incidents.models import Incident, User

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
DEMO_COMMANDS = ["demo", "demo_escalation", "demo_statuspage", "demo_postmortems",
                 "demo_integrations"]  # fmt: skip
PATCHABLE = sorted(path for path, ops in SCHEMA["paths"].items() if "patch" in ops)
TAMPERED = {"string": "tampered", "integer": 987654, "number": 98765.4}
DATE_TIME = "2001-02-03T04:05:06Z"


def schema_of(ref_holder: dict) -> dict:
    ref = ref_holder["content"]["application/json"]["schema"]["$ref"]
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]]


def read_only_fields(operation: dict) -> dict:
    """Fields the answer shows as read-only that the request does not offer to write (an
    incident answers with one serializer and is written with another)."""
    answer = schema_of(operation["responses"]["200"])["properties"]
    writable = schema_of(operation["requestBody"])["properties"]
    return {
        name: spec for name, spec in answer.items() if spec.get("readOnly") and name not in writable
    }


def tampered_values(fields: dict, current: dict) -> dict:
    """A value of the right type, unlike the current one, for every read-only field."""
    values = {}
    for name, spec in fields.items():
        if name not in current:
            continue
        if spec.get("format") == "date-time":
            values[name] = DATE_TIME
        elif spec.get("type") == "boolean":
            values[name] = not current[name]
        elif spec.get("type") in TAMPERED:
            values[name] = TAMPERED[spec["type"]]
    return values


def rows_of(api, url: str) -> list[dict]:
    listing = api.get(url)
    if listing.status_code != 200:
        return []
    data = listing.json()
    return data["results"] if isinstance(data, dict) else data


def first_object(api, path: str) -> tuple[str, dict] | None:
    """`path` with its parameters taken, left to right, from the rows of each list (trying
    parents until one has children), with the object's row."""
    match = re.search(r"\{(\w+)\}", path)
    key = "id" if match.group(1) in ("id", "pk", "postmortem_pk") else match.group(1)
    for row in rows_of(api, path[: match.start()]):
        url = path[: match.start()] + str(row[key]) + path[match.end() :]
        if "{" not in url:
            return url, row
        if found := first_object(api, url):
            return found
    return None


def test_every_patchable_object_keeps_its_read_only_fields(api):
    for command in DEMO_COMMANDS:
        call_command(command, stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = User.objects.get(username="admin")
    newest = Incident.objects.order_by("-pk").first()  # the demo's tasks sit on older ones
    incident_services.task_add(incident=newest, by=admin, title="Check the read-only fields")
    api.as_user(admin)

    tried, untouched, written = [], [], {}
    for path in PATCHABLE:
        found = first_object(api, path)
        if found is None:
            untouched.append(path)
            continue
        url, row = found
        read = api.get(url)
        before = read.json() if read.status_code == 200 else row
        fields = read_only_fields(SCHEMA["paths"][path]["patch"])
        if not fields:
            tried.append(path)  # its answer has nothing read-only (a pick's annotation)
            continue
        values = tampered_values(fields, before)
        answer = api.patch(url, values, format="json")
        after = api.get(url).json() if read.status_code == 200 else first_object(api, path)[1]
        assert values, f"{path}: no read-only field to try"
        assert answer.status_code == 200, (path, answer.content)
        tried.append(path)
        changed = {
            name
            for name, value in values.items()
            if after[name] == value or (name in before and after[name] != before[name]
                                         and value != DATE_TIME)
        }  # fmt: skip
        if changed:
            written[path] = changed

    assert written == {}
    assert untouched == [], f"no demo object to try: {untouched}"
    assert len(tried) == len(PATCHABLE)
