"""Hypothesis strategies for the JSON that a JSON schema (pydantic's
`model_json_schema()`) describes: the parts the protocol's schemas use ($ref/$defs,
anyOf, const, enum, strings with length and pattern, bounded numbers, arrays,
objects with properties and additionalProperties)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
ANY_JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def from_schema(
    schema: dict[str, Any], defs: dict[str, Any] | None = None
) -> st.SearchStrategy[Any]:
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(defs[schema["$ref"].split("/")[-1]], defs))
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        lo, hi = schema.get("minLength", 0), min(schema.get("maxLength", 200), 200)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda s: lo <= len(s) <= schema.get("maxLength", 10**9)
            )
        return st.text(min_size=lo, max_size=max(lo, hi))
    if kind == "integer":
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -(2**40) - 1) + 1)
        hi = schema.get("maximum", schema.get("exclusiveMaximum", 2**40 + 1) - 1)
        return st.integers(lo, hi)
    if kind == "number":
        return st.floats(
            schema.get("minimum", schema.get("exclusiveMinimum")),
            schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = from_schema(schema.get("items", {}), defs) if schema.get("items") else ANY_JSON
        lo = schema.get("minItems", 0)
        return st.lists(items, min_size=lo, max_size=max(lo, min(schema.get("maxItems", 4), 4)))
    if kind == "object":
        props = schema.get("properties")
        if not props:
            return st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=4)
        required = set(schema.get("required", ()))
        fixed = {k: from_schema(v, defs) for k, v in props.items() if k in required}
        optional = {k: from_schema(v, defs) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries(fixed, optional=optional)
    return ANY_JSON
