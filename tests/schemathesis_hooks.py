"""Schemathesis hooks for tests/test_api_schema.py (loaded through SCHEMATHESIS_HOOKS).

JSON Schema cannot tell `7.0` from `7`: both are "integer". The contract can: `z`, `id` and `version` must be
JSON integer literals (docs/protocol.md: `1.0` is bad_request), so a generated `7.0` in those fields is a
request the published schema calls valid but the server refuses on purpose. This hook sends such values as
the integers they denote; every other generated value goes out unchanged.
"""

from __future__ import annotations

from typing import Any

import schemathesis

INTEGER_FIELDS = frozenset({"z", "id", "version"})


def integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: int(v) if k in INTEGER_FIELDS and isinstance(v, float) and v.is_integer() else integral_floats_as_ints(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [integral_floats_as_ints(v) for v in value]
    return value


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    return integral_floats_as_ints(body)
