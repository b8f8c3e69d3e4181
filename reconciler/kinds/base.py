"""The field table every resource kind declares (`reconciler/kinds/<kind>.py`), and the four
functions that table drives.

A `Field` row says, for one setting of one kind:

- `attr`: its key in the normalized attributes the planner diffs and prints;
- `manifest`: its dotted camelCase path in the kind's manifest entry (`None`: the setting is not
  written in a manifest; the kind module derives it);
- `live`: its dotted path in the resource as Azure returns it (`properties.x.y`, `sku.name`,
  `location`); `None`: the kind module reads it;
- `write`: its dotted path in the create (PUT) body; `None`: not sent at create;
- `update`: its dotted path in the update body (PATCH, or the PUT an update sends); `None`: the
  update input cannot change it, so a change is a replace (`mode="replace"`);
- `default`: what a manifest that leaves it out means (also what export leaves out);
- `norm`: the normalization applied to both sides before diffing (one shape for desired and live);
- `to_api` / `from_api`: the normalized value as a request takes it / as the live read gives it
  (`live` is read, passed through `from_api`, then `norm`);
- `to_manifest`: the normalized value as a manifest writes it (export).

`desired_attrs`, `live_attrs`, `body` and `export_entry` are the four uses. A kind module may
add what its shape needs (derived fields, references), in functions of its own, used by the same
entry points; tests/kinds/test_round_trip.py checks that every row of every kind round-trips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["Field", "get_path", "put_path", "snake", "desired_attrs", "live_attrs", "body", "export_entry",
           "replace_fields", "norm_location",
           "canonical"]


def _same(v: Any) -> Any:
    return v


@dataclass(frozen=True)
class Field:
    attr: str
    manifest: str | None
    live: str | None
    write: str | None
    update: str | None
    mode: str = "update"
    default: Any = None
    norm: Callable[[Any], Any] = _same
    to_api: Callable[[Any], Any] = _same
    from_api: Callable[[Any], Any] = _same
    to_manifest: Callable[[Any], Any] = _same

    def __post_init__(self) -> None:
        if self.mode not in ("update", "replace"):
            raise ValueError(f"{self.attr}: mode {self.mode!r} is neither 'update' nor 'replace'")
        if self.mode == "update" and self.update is None and self.manifest is not None:
            raise ValueError(f"{self.attr}: an in-place field needs its update path")


def get_path(d: Any, path: str) -> Any:
    """`d["a"]["b"]` for "a.b"; None where a part is missing or not a mapping."""
    for part in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def put_path(d: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        d = d.setdefault(part, {})
    d[parts[-1]] = value


def snake(key: str) -> str:
    """camelCase manifest key -> the pydantic model's attribute name."""
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def norm_location(loc: Any) -> str | None:
    """An Azure region as ARM names it: "West Europe" -> "westeurope"."""
    if loc is None:
        return None
    return str(loc).replace(" ", "").lower()


def canonical(value: Any) -> Any:
    """A deep copy with keys sorted (request bodies must be a deterministic function of their inputs)."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def _model_value(model: Any, path: str) -> Any:
    v: Any = model
    for part in path.split("."):
        if v is None:
            return None
        v = v.get(part) if isinstance(v, dict) else getattr(v, snake(part), None)
    if isinstance(v, Enum):
        v = v.value
    if isinstance(v, dict):
        v = dict(v)
    return v


def desired_attrs(fields: Iterable[Field], model: Any) -> dict[str, Any]:
    """The manifest-declared fields of `model` (a manifest entry), normalized; defaults filled in."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.manifest is None:
            continue
        v = _model_value(model, f.manifest)
        if v is None:
            v = f.default
        out[f.attr] = f.norm(v) if v is not None else None
    return out


def live_attrs(fields: Iterable[Field], resource: dict[str, Any]) -> dict[str, Any]:
    """The table's fields of a live resource (ARM JSON), normalized."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.live is None:
            continue
        v = f.from_api(get_path(resource, f.live))
        out[f.attr] = f.norm(v) if v is not None else None
    return out


def body(fields: Iterable[Field], attrs: dict[str, Any], *, update: bool = False,
         only: Iterable[str] | None = None) -> dict[str, Any]:
    """A create body (`write` paths) or an update body (`update` paths) from normalized attrs.
    `only`: the attrs to send (an update sends what changed); None values are not sent."""
    chosen = None if only is None else set(only)
    out: dict[str, Any] = {}
    for f in fields:
        path = f.update if update else f.write
        if path is None or (chosen is not None and f.attr not in chosen) or attrs.get(f.attr) is None:
            continue
        put_path(out, path, f.to_api(attrs[f.attr]))
    return out


def export_entry(fields: Iterable[Field], attrs: dict[str, Any], *, keep_defaults: bool = False) -> dict[str, Any]:
    """The manifest entry (camelCase, table order) for normalized attrs; a value equal to its
    default is left out unless `keep_defaults`."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.manifest is None:
            continue
        v = attrs.get(f.attr)
        if v is None or (not keep_defaults and f.default is not None and v == f.norm(f.default)):
            continue
        put_path(out, f.manifest, f.to_manifest(v))
    return out


def replace_fields(fields: Iterable[Field]) -> tuple[str, ...]:
    return tuple(f.attr for f in fields if f.mode == "replace")
