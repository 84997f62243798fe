"""Generate the frontend's TypeScript protocol types from the pydantic schemas.

The browser apps import every wire type from `frontend/src/lib/protocol.gen.ts`,
which this module writes (`visavis protocol-ts`). The file is committed and a unit
test compares it with `render()`, so a schema change that was not regenerated fails
CI instead of drifting silently between server and clients.

Only the JSON Schema subset our models produce is supported (objects, `$ref`,
`anyOf`, `const`, `enum`, arrays, scalars); anything else raises, so that a new kind
of field is noticed here rather than typed as `unknown`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from visavis.protocol.messages import (
    CLIENT_MESSAGES,
    EVENT_BODIES,
    HTTP_MODELS,
    MAX_FRAME_BYTES,
    MAX_TEXT_CHARS,
    PROTOCOL_VERSION,
    SERVER_MESSAGES,
)

OUTPUT = Path(__file__).resolve().parents[3] / "frontend" / "src" / "lib" / "protocol.gen.ts"

# Interface names for messages get this suffix: the bare class names `Event` and
# `Error` would shadow the DOM globals of the same name in every importing module.
MESSAGE_SUFFIX = "Msg"

Schema = Mapping[str, Any]


class _Emitter:
    def __init__(self) -> None:
        self.defs: dict[str, Schema] = {}
        self.blocks: list[str] = []

    # ------------------------------------------------------------ types
    def type_of(self, schema: Schema) -> str:
        if "$ref" in schema:
            ref = str(schema["$ref"])
            if not ref.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {ref!r}")
            return ref.removeprefix("#/$defs/")
        if "const" in schema:
            return json.dumps(schema["const"])
        if "enum" in schema:
            return " | ".join(json.dumps(v) for v in schema["enum"])
        if "anyOf" in schema:
            parts: list[str] = []
            for sub in schema["anyOf"]:
                t = self.type_of(sub)
                if t not in parts:
                    parts.append(t)
            return " | ".join(parts)
        kind = schema.get("type")
        if kind == "string":
            return "string"
        if kind in ("integer", "number"):
            return "number"
        if kind == "boolean":
            return "boolean"
        if kind == "null":
            return "null"
        if kind == "array":
            item = self.type_of(schema.get("items", {}))
            return f"({item})[]" if "|" in item else f"{item}[]"
        if kind == "object":
            if "properties" in schema:
                raise ValueError("inline object schemas are not supported; use a model")
            extra = schema.get("additionalProperties", True)
            value = "unknown" if extra is True or extra == {} else self.type_of(extra)
            return f"{{ [key: string]: {value} }}"
        if not schema:
            return "unknown"
        raise ValueError(f"unsupported schema {dict(schema)!r}")

    # ------------------------------------------------------------ declarations
    def interface(self, name: str, schema: Schema) -> str:
        lines: list[str] = []
        doc = _doc(schema.get("description"), indent="")
        if doc:
            lines.append(doc)
        lines.append(f"export interface {name} {{")
        required = set(schema.get("required", []))
        for field, sub in schema.get("properties", {}).items():
            fdoc = _doc(_field_note(sub), indent="  ")
            if fdoc:
                lines.append(fdoc)
            optional = "" if field in required else "?"
            lines.append(f"  {field}{optional}: {self.type_of(sub)};")
        lines.append("}")
        return "\n".join(lines)

    def model(self, name: str, model: type[BaseModel]) -> None:
        schema = self._schema(model)
        self.blocks.append(self.interface(name, schema))

    def shared(self, model: type[BaseModel]) -> None:
        """A model no message carries by itself (an event body, an HTTP answer): emitted
        among the shared models under its own name."""
        schema = dict(self._schema(model))
        schema.pop("$defs", None)
        self._define(model.__name__, schema)

    def _schema(self, model: type[BaseModel]) -> Schema:
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        for def_name, def_schema in schema.get("$defs", {}).items():
            self._define(def_name, def_schema)
        return schema

    def _define(self, name: str, schema: Schema) -> None:
        known = self.defs.get(name)
        if known is not None and known != schema:
            raise ValueError(f"two different schemas are named {name!r}")
        self.defs[name] = schema


def _doc(text: object, indent: str) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    words = " ".join(text.split())
    return f"{indent}/** {words.replace('*/', '* /')} */"


def _field_note(schema: Schema) -> str:
    """Constraints worth knowing in the editor (length, pattern, range)."""
    notes: list[str] = []
    for sub in [schema, *schema.get("anyOf", [])]:
        for key in ("minLength", "maxLength", "pattern", "minimum", "maximum"):
            if key in sub:
                notes.append(f"{key} {sub[key]}")
    if "description" in schema:
        notes.insert(0, str(schema["description"]))
    return "; ".join(notes)


def _interface_name(model: type[BaseModel]) -> str:
    return model.__name__ + MESSAGE_SUFFIX


def render() -> str:
    """The complete text of `protocol.gen.ts`."""
    emitter = _Emitter()
    client_names: dict[str, str] = {}
    server_names: dict[str, str] = {}
    for kind, client_model in CLIENT_MESSAGES.items():
        name = _interface_name(client_model)
        client_names[kind] = name
        emitter.model(name, client_model)
    for kind, server_model in SERVER_MESSAGES.items():
        name = _interface_name(server_model)
        if name in client_names.values():
            raise ValueError(f"client and server message share the name {name!r}")
        server_names[kind] = name
        emitter.model(name, server_model)
    for shared_model in (*EVENT_BODIES.values(), *HTTP_MODELS):
        emitter.shared(shared_model)

    out: list[str] = [
        "// Generated by `visavis protocol-ts` (src/visavis/protocol/typescript.py)",
        "// from the schemas in src/visavis/protocol/ (client.py, server.py). Do not edit:",
        "// change the schemas and regenerate; tests/unit/test_protocol_ts.py checks this",
        "// file is current.",
        "/* eslint-disable */",
        "",
        f"export const PROTOCOL_VERSION = {PROTOCOL_VERSION};",
        f"export const MAX_FRAME_BYTES = {MAX_FRAME_BYTES};",
        f"export const MAX_TEXT_CHARS = {MAX_TEXT_CHARS};",
        "",
        "// ---------------------------------------------------------------- shared models",
        "",
    ]
    for def_name in sorted(emitter.defs):
        schema = emitter.defs[def_name]
        if schema.get("type") == "object" and not schema.get("properties"):
            out.append(_doc(schema.get("description"), indent=""))  # a body with no fields
            out.append(f"export type {def_name} = Record<string, never>;")
        elif schema.get("type") == "object":
            out.append(emitter.interface(def_name, schema))
        else:
            out.append(f"export type {def_name} = {emitter.type_of(schema)};")
        out.append("")
    out.append("// ---------------------------------------------------------------- messages")
    out.append("")
    for block in emitter.blocks:
        out.append(block)
        out.append("")

    def union(name: str, names: dict[str, str], doc: str) -> None:
        out.append(f"/** {doc} */")
        out.append(f"export type {name} =")
        items = list(names.values())
        for i, item in enumerate(items):
            out.append(f"  | {item}{';' if i == len(items) - 1 else ''}")
        out.append("")

    def mapping(name: str, names: dict[str, str], doc: str) -> None:
        out.append(f"/** {doc} */")
        out.append(f"export interface {name} {{")
        for kind, item in names.items():
            out.append(f"  {json.dumps(kind)}: {item};")
        out.append("}")
        out.append("")

    union("ClientMessage", client_names, "Every frame a browser may send.")
    union("ServerMessage", server_names, "Every frame the server may send.")
    mapping("ClientMessageMap", client_names, "Client frames by `type`.")
    mapping("ServerMessageMap", server_names, "Server frames by `type`.")
    mapping(
        "EventBodyMap",
        {kind: model.__name__ for kind, model in EVENT_BODIES.items()},
        "The typed body of each event kind that has one (`event.body`).",
    )
    out.append("export type ClientMessageType = keyof ClientMessageMap;")
    out.append("export type ServerMessageType = keyof ServerMessageMap;")
    out.append("")
    out.append("export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = [")
    out.extend(f"  {json.dumps(k)}," for k in client_names)
    out.append("];")
    out.append("export const SERVER_MESSAGE_TYPES: readonly ServerMessageType[] = [")
    out.extend(f"  {json.dumps(k)}," for k in server_names)
    out.append("];")
    text = "\n".join(out).rstrip() + "\n"
    # Keep the output stable and readable: no trailing spaces, single blank lines.
    return re.sub(r"\n{3,}", "\n\n", text)


def write(path: Path = OUTPUT) -> Path:
    """Write `render()` to `path` (default: the frontend's protocol.gen.ts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path


def main() -> None:
    """CLI entry (`visavis protocol-ts`): regenerate the committed TypeScript file."""
    print(f"wrote {write()}")


if __name__ == "__main__":
    main()
