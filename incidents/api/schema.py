"""OpenAPI post-processing: document the error answers every operation can give.

drf-spectacular lists only the success answer; clients (and schemathesis) need to know
that a request can also be refused, and in which shape: DRF's `{"detail": "..."}`, or for
a 400 an object naming each field that failed.
"""

from typing import Any

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Field names (or `non_field_errors`, `detail`) mapped to their errors.",
    "additionalProperties": {},
}
WRITES = {"post", "put", "patch", "delete"}
REASONS = {
    "400": "Invalid input",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found, or not visible to you",
    "409": "Not allowed in the object's current state",
    "413": "Request body too large",
    "429": "Too many requests; see Retry-After",
}


def _error_codes(method: str) -> list[str]:
    codes = ["400", "401", "403", "404", "429"]  # a list's 404: an invalid cursor
    if method in WRITES:
        codes += ["409", "413"]
    return codes


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "head", *WRITES}:
                continue
            for code in _error_codes(method):
                name = "ValidationError" if code == "400" else "Error"
                operation["responses"].setdefault(
                    code,
                    {
                        "description": REASONS[code],
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
