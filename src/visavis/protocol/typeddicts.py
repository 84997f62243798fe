"""Generate the TypedDicts of every server → client frame from the pydantic schemas.

The server builds its frames as plain dicts and never validates them at runtime (the
chat hot path stays a dict and one `json.dumps`). To let mypy check them anyway, this
module writes `frames.py` (`visavis protocol-py`): one TypedDict per server message,
named `<Model>Frame`, one per model a frame carries (`ConversationSummary`,
`QueueEntry`, `Author` …, same name; also the typed event bodies and HTTP answers of
`collab.py`), and the union `ServerFrame`. Code types a frame
literal with one of them, so a wrong key or value type is a mypy error; at runtime a
TypedDict is a plain dict. The file is committed and a unit test compares it with
`render()`, like the TypeScript types (`typescript.py`).

A frame with a key that is a Python keyword (`from`, a pydantic alias) is written in
TypedDict's functional form. Rules: a field with a default is `NotRequired[...]`, except
the envelope's `v`, which every server frame carries. Named value sets
(`common.NAMED_LITERALS`) keep their names; other `Literal`s are written out. `dict[str,
Any]` stays as it is: such fields are free-form (an event's `body`, ICE server dicts).
Any other kind of field type raises, so that it is noticed here rather than typed
loosely.
"""

from __future__ import annotations

import json
import keyword
import re
import textwrap
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from visavis.protocol.common import NAMED_LITERALS
from visavis.protocol.messages import EVENT_BODIES, HTTP_MODELS
from visavis.protocol.server import SERVER_MESSAGES

OUTPUT = Path(__file__).resolve().with_name("frames.py")

FRAME_SUFFIX = "Frame"
ALWAYS_SENT = frozenset({"v"})  # envelope fields every server frame carries
RULE = "# " + "-" * 64


def frame_name(model: type[BaseModel]) -> str:
    return model.__name__ + FRAME_SUFFIX


def _literal(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool | int):
        return repr(value)
    raise ValueError(f"unsupported Literal value {value!r}")


def _docstring(text: str | None) -> list[str]:
    if not text or not text.strip():
        return []
    words = " ".join(text.split())
    lines = textwrap.wrap(words, width=88, break_on_hyphens=False)
    lines[0] = '"""' + lines[0]
    lines[-1] += '"""'
    return ["    " + line for line in lines] + [""]


class _Emitter:
    def __init__(self) -> None:
        self.models: dict[str, type[BaseModel]] = {}  # carried models, by name
        self.uses: dict[str, set[str]] = {}  # TypedDict -> carried models it names
        self._current: set[str] = set()
        self.typing: set[str] = {"NotRequired", "TypeAlias", "TypedDict"}
        self.literals: set[str] = set()

    def type_of(self, tp: Any) -> str:
        origin = get_origin(tp)
        if origin is Annotated:  # constraints only: the type is the first argument
            return self.type_of(get_args(tp)[0])
        if origin is Union or origin is types.UnionType:
            parts: list[str] = []
            for arg in get_args(tp):
                part = self.type_of(arg)
                if part not in parts:
                    parts.append(part)
            return " | ".join(parts)
        if origin is Literal:
            values = get_args(tp)
            for name, named in NAMED_LITERALS.items():
                if get_args(named) == values:
                    self.literals.add(name)
                    return name
            self.typing.add("Literal")
            return f"Literal[{', '.join(_literal(v) for v in values)}]"
        if origin is list:
            return f"list[{self.type_of(get_args(tp)[0])}]"
        if origin is dict:
            key, value = get_args(tp)
            return f"dict[{self.type_of(key)}, {self.type_of(value)}]"
        if tp is Any:
            self.typing.add("Any")
            return "Any"
        if tp is None or tp is type(None):
            return "None"
        if tp in (str, int, float, bool):
            return str(tp.__name__)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            known = self.models.setdefault(tp.__name__, tp)
            if known is not tp:
                raise ValueError(f"two different models are named {tp.__name__!r}")
            self._current.add(tp.__name__)
            return tp.__name__
        raise ValueError(f"unsupported field type {tp!r}")

    def typed_dict(self, name: str, model: type[BaseModel], frame: bool) -> str:
        model.model_rebuild()  # resolves forward references (CallSummary in a summary)
        self._current = self.uses[name] = set()
        fields: list[tuple[str, str]] = []
        for field, info in model.model_fields.items():
            key = info.alias or field
            kind = self.type_of(info.annotation)
            if not info.is_required() and not (frame and key in ALWAYS_SENT):
                kind = f"NotRequired[{kind}]"
            fields.append((key, kind))
        if any(keyword.iskeyword(key) or not key.isidentifier() for key, _ in fields):
            # A key such as `from` cannot be a class attribute: the functional form.
            body = "".join(f"\n        {json.dumps(key)}: {kind}," for key, kind in fields)
            return f"{name} = TypedDict(\n    {json.dumps(name)},\n    {{{body}\n    }},\n)"
        lines = [f"class {name}(TypedDict):", *_docstring(model.__doc__)]
        lines += [f"    {key}: {kind}" for key, kind in fields]
        return "\n".join(lines)


def render() -> str:
    """The complete text of `frames.py`."""
    emitter = _Emitter()
    frames = [
        emitter.typed_dict(frame_name(model), model, frame=True)
        for model in SERVER_MESSAGES.values()
    ]
    for shared in (*EVENT_BODIES.values(), *HTTP_MODELS):
        emitter.models.setdefault(shared.__name__, shared)  # event bodies, HTTP answers
    carried: dict[str, str] = {}
    while len(carried) < len(emitter.models):  # carried models may carry others
        for name, model in list(emitter.models.items()):
            if name not in carried:
                carried[name] = emitter.typed_dict(name, model, frame=False)
    # Alphabetical, but a model after the ones it carries: the annotations are
    # evaluated at runtime (a postponed `NotRequired` would not count as such).
    ordered: list[str] = []

    def place(name: str) -> None:
        if name not in ordered:
            for used in sorted(emitter.uses[name]):
                place(used)
            ordered.append(name)

    for name in sorted(carried):
        place(name)
    frame_names = [frame_name(model) for model in SERVER_MESSAGES.values()]
    literals = sorted(emitter.literals)
    exported = sorted([*literals, *carried, *frame_names, "ServerFrame"])

    out = [
        '"""Every frame the server sends, as TypedDicts. Generated by `visavis protocol-py`',
        "(src/visavis/protocol/typeddicts.py) from the schemas in protocol/server.py: do not",
        "edit, change the schemas and regenerate; tests/unit/test_protocol_py.py checks that",
        "this file is current.",
        "",
        "Type a frame literal with one of these and mypy checks its keys and value types; at",
        'runtime they are plain dicts (no validation, no cost)."""',
        "",
        f"from typing import {', '.join(sorted(emitter.typing))}",
        "",
        "from visavis.protocol.common import (",
        *[f"    {name}," for name in literals],
        ")",
        "",
        "__all__ = [",
        *[f'    "{name}",' for name in exported],
        "]",
        "",
        "",
        RULE + " carried models",
    ]
    for name in ordered:
        out += [carried[name], "", ""]
    out.append(RULE + " frames")
    for block in frames:
        out += [block, "", ""]
    out.append("ServerFrame: TypeAlias = (")
    out.append("    " + "\n    | ".join(frame_names))
    out.append(")")
    out.append('"""Every frame the server may send."""')
    text = "\n".join(out) + "\n"
    return re.sub(r"\n{4,}", "\n\n\n", text)


def write(path: Path = OUTPUT) -> Path:
    """Write `render()` to `path` (default: protocol/frames.py)."""
    path.write_text(render(), encoding="utf-8")
    return path


def main() -> None:
    """CLI entry (`visavis protocol-py`): regenerate the committed TypedDicts."""
    print(f"wrote {write()}")


if __name__ == "__main__":
    main()
