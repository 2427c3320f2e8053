"""Instruction-data formats: Alpaca, ShareGPT and OpenAI ``messages``.

Every format is read into a list of ``Field``s (where each text lives in the record,
which role speaks it) so that translation can pick fields by role or name, write the
translations back into a copy of the record in its own format, and derive the common
``messages`` form from that copy.  Validation names the first problem found; callers
turn it into a ``malformed_instruction`` drop reason rather than an exception.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import orjson

ALPACA = "alpaca"
SHAREGPT = "sharegpt"
MESSAGES = "messages"
FORMATS = (ALPACA, SHAREGPT, MESSAGES)

#: ShareGPT speaker names -> chat roles.  Datasets disagree on names; these are the ones
#: seen in the common ShareGPT derivatives (Vicuna, OpenHermes, SlimOrca, glaive).
SHAREGPT_ROLES: dict[str, str] = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "function_call": "assistant",
    "tool": "tool",
    "function": "tool",
    "function_response": "tool",
    "observation": "tool",
    "ipython": "tool",
}
MESSAGE_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function", "ipython"})
#: Alpaca keys -> chat roles.
ALPACA_ROLES: dict[str, str] = {"system": "system", "instruction": "user", "input": "user", "output": "assistant"}


class FormatError(ValueError):
    """A record that is not a valid instance of its instruction format."""


@dataclasses.dataclass(frozen=True)
class Field:
    """One text of a record: where it is, who speaks it, what the format calls it."""

    path: tuple[str | int, ...]
    role: str  # normalised chat role: system / user / assistant / tool ...
    name: str  # the format's own name: Alpaca key, ShareGPT speaker, messages role
    text: str


def detect_format(record: Any) -> str:
    """The format a record is written in; FormatError if none fits."""
    if not isinstance(record, dict):
        raise FormatError(f"record is a JSON {type(record).__name__}, expected an object")
    if "messages" in record:
        return MESSAGES
    if "conversations" in record:
        return SHAREGPT
    if "instruction" in record:
        return ALPACA
    keys = ", ".join(sorted(record)[:8]) or "none"
    raise FormatError(f"no instruction format recognised (need messages, conversations or instruction; keys: {keys})")


def _text(value: Any, where: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise FormatError(f"{where} is {'null' if value is None else type(value).__name__}, expected a string")
    return value


def _alpaca_fields(record: dict[str, Any]) -> list[Field]:
    out = []
    for key in ("system", "instruction", "input", "output"):
        if key not in record:
            continue
        text = _text(record[key], key, optional=key in ("system", "input"))
        out.append(Field((key,), ALPACA_ROLES[key], key, text))
    if "output" not in record:
        raise FormatError("output is missing")
    if not any(f.name == "instruction" and f.text.strip() for f in out):
        raise FormatError("instruction is missing or empty")
    return out


def _turns(record: dict[str, Any], key: str) -> list[Any]:
    turns = record.get(key)
    if not isinstance(turns, list):
        raise FormatError(f"{key} is {type(turns).__name__}, expected a list")
    if not turns:
        raise FormatError(f"{key} is empty")
    return turns


def _sharegpt_fields(record: dict[str, Any]) -> list[Field]:
    out = []
    if isinstance(record.get("system"), str) and record["system"]:
        out.append(Field(("system",), "system", "system", record["system"]))
    for i, turn in enumerate(_turns(record, "conversations")):
        if not isinstance(turn, dict):
            raise FormatError(f"conversations[{i}] is {type(turn).__name__}, expected an object")
        speaker = _text(turn.get("from"), f"conversations[{i}].from")
        role = SHAREGPT_ROLES.get(speaker.lower())
        if role is None:
            raise FormatError(f"conversations[{i}].from: unknown speaker {speaker!r}")
        out.append(
            Field(("conversations", i, "value"), role, speaker, _text(turn.get("value"), f"conversations[{i}].value"))
        )
    return out


def _messages_fields(record: dict[str, Any]) -> list[Field]:
    out = []
    for i, msg in enumerate(_turns(record, "messages")):
        if not isinstance(msg, dict):
            raise FormatError(f"messages[{i}] is {type(msg).__name__}, expected an object")
        role = _text(msg.get("role"), f"messages[{i}].role")
        if role not in MESSAGE_ROLES:
            raise FormatError(f"messages[{i}].role: unknown role {role!r}")
        content = msg.get("content")
        if isinstance(content, list):  # content parts: only the text parts are text
            for j, part in enumerate(content):
                if not isinstance(part, dict):
                    raise FormatError(f"messages[{i}].content[{j}] is {type(part).__name__}, expected an object")
                if part.get("type") == "text":
                    out.append(
                        Field(
                            ("messages", i, "content", j, "text"),
                            role,
                            role,
                            _text(part.get("text"), f"messages[{i}].content[{j}].text"),
                        )
                    )
        elif content is None:
            if not (msg.get("tool_calls") or msg.get("function_call")):
                raise FormatError(f"messages[{i}].content is null without tool calls")
        else:
            out.append(Field(("messages", i, "content"), role, role, _text(content, f"messages[{i}].content")))
    return out


_READERS = {ALPACA: _alpaca_fields, SHAREGPT: _sharegpt_fields, MESSAGES: _messages_fields}


def fields(record: Any, fmt: str) -> list[Field]:
    """The texts of a record in format ``fmt``, validating the record on the way."""
    if not isinstance(record, dict):
        raise FormatError(f"record is a JSON {type(record).__name__}, expected an object")
    try:
        reader = _READERS[fmt]
    except KeyError:
        raise ValueError(f"unknown instruction format {fmt!r}; expected one of {', '.join(FORMATS)} or auto") from None
    return reader(record)


def to_messages(record: dict[str, Any], fmt: str) -> list[dict[str, str]]:
    """The record as chat ``messages`` (``role``/``content``), the form every output has.

    Alpaca's input follows the instruction after a blank line, as the Alpaca prompt
    template puts it.  Text parts of one OpenAI message are joined by newlines.
    """
    fs = fields(record, fmt)
    if fmt == ALPACA:
        by = {f.name: f.text for f in fs}
        msgs = []
        if by.get("system", "").strip():
            msgs.append({"role": "system", "content": by["system"]})
        user = by["instruction"] + (f"\n\n{by['input']}" if by.get("input", "").strip() else "")
        msgs.append({"role": "user", "content": user})
        msgs.append({"role": "assistant", "content": by.get("output", "")})
        return msgs
    if fmt == SHAREGPT:
        return [{"role": f.role, "content": f.text} for f in fs]
    msgs = []
    for i, msg in enumerate(record["messages"]):
        texts = [f.text for f in fs if f.path[1] == i]
        msgs.append({"role": msg["role"], "content": "\n".join(texts)})
    return msgs


def set_field(record: dict[str, Any], path: tuple[str | int, ...], value: str) -> None:
    """Write ``value`` at ``path`` inside ``record`` (in place)."""
    target: Any = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def with_texts(record: dict[str, Any], texts: dict[tuple[str | int, ...], str]) -> dict[str, Any]:
    """A deep copy of ``record`` with the texts at the given paths replaced."""
    out = copy.deepcopy(record)
    for path, value in texts.items():
        set_field(out, path, value)
    return out


@dataclasses.dataclass
class Parsed:
    """A parsed input record."""

    format: str
    record: dict[str, Any]
    messages: list[dict[str, str]]


def parse_record(raw: str | bytes | None, fmt: str = "auto") -> Parsed:
    """Parse a record's JSON and read it as ``fmt`` (``"auto"``: detect per record)."""
    if raw is None:
        raise FormatError("empty record")
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc}") from None
    found = detect_format(record) if fmt == "auto" else fmt
    return Parsed(found, record, to_messages(record, found))


def selected(field: Field, fmt: str, roles: frozenset[str] | None, alpaca_fields: frozenset[str] | None) -> bool:
    """Whether ``field`` is to be translated.

    Alpaca fields are chosen by key when ``alpaca_fields`` is given; everything else by
    role, where a role matches the normalised role or the format's own speaker name
    (``"gpt"`` and ``"assistant"`` both select ShareGPT's gpt turns).
    """
    if fmt == ALPACA and alpaca_fields is not None:
        return field.name in alpaca_fields
    return roles is None or field.role in roles or field.name in roles
