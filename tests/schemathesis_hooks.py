"""Schemathesis hooks for tests/test_api_schema.py (loaded through SCHEMATHESIS_HOOKS); docs/api.md says why.

1. JSON Schema cannot tell `7.0` from `7`: both are "integer". The contract can: `z`, `id` and `version` must
   be JSON integer literals (docs/protocol.md: `1.0` is bad_request), so a generated `7.0` in those fields is
   a request the published schema calls valid but the server refuses on purpose. Such values are sent as the
   integers they denote.
2. Generated creates reuse short `client_id`s ("0") across unrelated test cases, and a create replayed after
   its note was deleted answers, by contract, with the tombstone, which the stateful checks then expect to
   be editable. Each valid `client_id` of a create gets a suffix unique to this run, so every create makes
   its own note (replays are tested in tests/test_rest.py). Invalid ones are left invalid.
Every other generated value goes out unchanged.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

INTEGER_FIELDS = frozenset({"z", "id", "version"})
CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,56}")
_unique = itertools.count(1)


def integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: int(v) if k in INTEGER_FIELDS and isinstance(v, float) and v.is_integer() else integral_floats_as_ints(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [integral_floats_as_ints(v) for v in value]
    return value


def _is_create(context: Any) -> bool:
    operation = getattr(context, "operation", None)
    return operation is not None and operation.method.upper() == "POST" and operation.path.endswith("/notes")


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    body = integral_floats_as_ints(body)
    if _is_create(context) and isinstance(body, dict):
        cid = body.get("client_id")
        if isinstance(cid, str) and CLIENT_ID.fullmatch(cid):
            body = {**body, "client_id": f"{cid}.{next(_unique):x}"}
    return body
