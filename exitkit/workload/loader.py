"""Reading a workload file: YAML with line numbers, one-line errors, the editor's JSON schema.

`load_workload` turns every problem into one `BadWorkload` line naming the file, the line, the
field and what was expected.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from exitkit import platforms
from exitkit.errors import BadWorkload
from exitkit.prices import load_catalog
from exitkit.workload.fields import short
from exitkit.workload.model import Workload
from exitkit.workload.sections import plan_inputs


class _Loader(yaml.SafeLoader):
    """safe_load that also rejects duplicate keys (YAML would silently keep the last)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, typing.Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        if isinstance(key, typing.Hashable):
            seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _bad(path: str, line: int | None, field: str | None, message: str) -> BadWorkload:
    """BadWorkload whose text is `path[:line]: field: message`; `.path` stays the file."""
    exc = BadWorkload(f"{path}:{line}" if line else path, field, message)
    exc.path = path
    exc.line = line  # type: ignore[attr-defined]
    return exc


def load_workload(path: str | Path) -> Workload:
    """Read and validate a workload file; any problem is one `BadWorkload` line."""
    p = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad(p, None, None, "no such file; start from templates/workload.yaml") from None
    except IsADirectoryError:
        raise _bad(p, None, None, "is a directory; expected a workload YAML file") from None
    except UnicodeDecodeError as exc:
        raise _bad(p, None, None, f"not UTF-8 text (byte {exc.start}); expected a YAML file") from None
    except OSError as exc:
        raise _bad(p, None, None, f"cannot read ({exc.strerror})") from None
    return parse_workload(text, p)


def parse_workload(text: str | dict, path: str = "<workload>") -> Workload:
    """Validate workload YAML text (or an already-parsed mapping); `path` names it in errors."""
    node = None
    if isinstance(text, str):
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)  # composing builds no objects
            _check_shape(path, node)  # aliases and nesting bounded before anything is built
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except RecursionError:
            raise _bad(path, None, None, f"YAML nested too deeply; expected at most {MAX_DEPTH} levels") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            what = getattr(exc, "problem", None) or str(exc)
            if "could not determine a constructor" in str(exc):
                what = f"unsupported YAML tag {_tag_of(exc)}; expected plain values (no !!python or other tags)"
            field = None
            if isinstance(exc, yaml.constructor.ConstructorError) and mark is not None:
                field = _field_at(yaml.compose(text, Loader=yaml.SafeLoader), mark)  # composing builds no objects
            raise _bad(path, mark.line + 1 if mark else None, field, f"not valid YAML: {what}") from None
    else:
        data = text
    if data is None:
        raise _bad(path, None, None, "empty file; expected a YAML mapping with name, source, region and topics")
    if not isinstance(data, dict):
        raise _bad(path, None, None, f"expected a YAML mapping at the top level, got a {_kind(data)}")
    try:
        wl = Workload.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field, message = _describe(err)
        loc = tuple(x for x in err["loc"] if x != "[key]")
        if err["type"] == "exitkit_field":
            loc = tuple(field.split("."))
        raise _bad(path, _line_of(node, loc), field, message) from None
    wl._path = path
    _check_prices(wl, node, path)
    # contract / cutover / owners have their own models; validate them now so a typo there is
    # one clear line at load time, like every other field.
    plan_inputs(wl)
    return wl


def _check_prices(wl: Workload, node: yaml.Node | None, path: str) -> None:
    """Every `prices:` override is a catalog key with a plausible value: else one line at its line."""
    if not wl.prices:
        return
    catalog = load_catalog()
    for key, value in wl.prices.items():
        problem = catalog.override_problem(key, value)
        if problem:
            raise _bad(path, _line_of(node, ("prices", key)), f"prices.{key}", problem)


def _tag_of(exc: yaml.YAMLError) -> str:
    m = re.search(r"tag '([^']+)'", str(exc))
    return repr(m.group(1).replace("tag:yaml.org,2002:", "!!")) if m else ""


def _field_at(node: yaml.Node | None, mark: yaml.Mark) -> str | None:
    """Dotted path of the deepest YAML node that contains `mark` (for errors YAML reports by position)."""
    loc: list = []

    def inside(n: yaml.Node) -> bool:
        return n.start_mark.index <= mark.index < max(n.end_mark.index, n.start_mark.index + 1)

    while node is not None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if inside(k) or inside(v):
                    loc.append(k.value if isinstance(k, yaml.ScalarNode) else "?")
                    node = v if inside(v) else None
                    break
            else:
                node = None
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                if inside(v):
                    loc.append(i)
                    node = v
                    break
            else:
                node = None
        else:
            node = None
    return _dotted(tuple(loc)) or None


def _kind(v: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(v), type(v).__name__)


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(err: dict) -> tuple[str, str]:
    """(dotted field, human message) for one pydantic error."""
    loc, kind, msg, value = err["loc"], err["type"], err["msg"], err.get("input")
    field = _dotted(loc)
    if kind == "exitkit_field":
        return err["ctx"]["field"], err["ctx"]["message"]
    if kind == "extra_forbidden":
        known = _keys_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"expected one of {', '.join(known)}"
        return field, f"unknown key ({hint})"
    if kind == "missing":
        return field, "missing; this key is required (see templates/workload.yaml)"
    if kind == "value_error":
        return field, msg.removeprefix("Value error, ")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return field, f"expected a mapping (key: value), got {_kind(value)} {short(value)}"
    if kind == "list_type":
        return field, f"expected a list, e.g. [a, b], got {_kind(value)} {short(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return field, f"{short(value)} is not a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return field, f"{short(value)} is not true or false"
    if kind in ("string_type",):
        return field, f"expected text, got {_kind(value)} {short(value)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        options = re.findall(r"'([^']+)'", expected)
        close = difflib.get_close_matches(str(value), options, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return field, f"{short(value)} is not allowed{hint}; expected one of {', '.join(options)}"
    return field, f"{short(value)}: {msg[:1].lower()}{msg[1:]}"


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, Annotated):
        for arg in typing.get_args(annotation):
            m = _unwrap_model(arg)
            if m is not None:
                return m
    return None


def _keys_at(loc: tuple) -> list[str]:
    """The keys a mapping at `loc` accepts (for 'did you mean')."""
    model: type[BaseModel] | None = Workload
    for part in loc:
        field = model.model_fields.get(part) if model else None
        model = _unwrap_model(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest YAML node on the path `loc` (best effort)."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def workload_json_schema() -> dict:
    """JSON schema of the workload file, for editor completion (YAML language servers)."""
    schema = Workload.model_json_schema(mode="validation")
    _fill_enums(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "exitkit workload"
    return schema


# Bounds on a workload file's YAML shape (issue 19): a 582-byte "billion laughs" file of nested
# aliases expands to millions of nodes (36 s and 3.1 GB before the first error was reported), and
# deep nesting overflows Python's stack. Real workload files are a few hundred nodes, 6 levels deep.
MAX_DEPTH = 64
MAX_NODES = 100_000


def _check_shape(path: str, root: yaml.Node | None) -> None:
    """Refuse YAML whose aliases expand past MAX_NODES nodes or that nests deeper than MAX_DEPTH."""
    if root is None:
        return
    size: dict[int, int] = {}  # expanded node count per node (an alias points at a shared node)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise _bad(
                path, node.start_mark.line + 1, None, f"YAML nested too deeply; expected at most {MAX_DEPTH} levels"
            )
        children = (
            [c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode)
            else list(node.value) if isinstance(node, yaml.SequenceNode) else []
        )  # fmt: skip
        if done:
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            if size[id(node)] > MAX_NODES:
                raise _bad(path, node.start_mark.line + 1, None,
                           f"YAML aliases expand to more than {MAX_NODES:,} values; expected a plain workload file")  # fmt: skip
            continue
        if id(node) in size:
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in size)


def _fill_enums(node: Any) -> None:
    """Platform and tool ids as enums, from the table as it is now (run-time registrations included)."""
    if isinstance(node, dict):
        kind = node.pop("x-exitkit", None)
        if kind == "platform":
            node["enum"] = list(platforms.platform_ids())
        elif kind == "migration_tool":
            node["enum"] = list(platforms.MIGRATION_TOOLS)
        for v in node.values():
            _fill_enums(v)
    elif isinstance(node, list):
        for v in node:
            _fill_enums(v)
