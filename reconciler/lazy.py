"""Lazy public names for a package's `__init__` (PEP 562): a name loads its module on
first use, so importing the package stays cheap (no Azure SDK, no emulator extra).

    _EXPORTS = {"Clients": ("reconciler.azure.clients", "Clients")}
    __getattr__ = lazy.exports(__name__, _EXPORTS)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def exports(package: str, table: dict[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: public name -> (module, name in the module)."""

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = table[name]
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)  # once loaded, a plain attribute
        return value

    return __getattr__
