"""Reading live state: concurrent paged lists into a `LiveState` value.

    read_live_state(clients, manifest) -> LiveState
    LiveState                      plain value: raw REST dicts by kind, case-insensitive lookups, fingerprint()
    norm_id(id), parse_id(id)      ARM id comparison form and parser
"""

from reconciler.live.ids import norm_id, parse_id
from reconciler.live.reader import read_live_state
from reconciler.live.state import LiveState

__all__ = ["LiveState", "norm_id", "parse_id", "read_live_state"]
