"""The local ARM emulator (an HTTPS endpoint the real Azure SDK talks to; docs/emulator.md).

The public names below are what other packages (the CLI) use; the modules are internal
(docs/design.md, "Public surface"). Names load their module on first use: the emulator's
server needs the `emulator` extra (starlette, uvicorn), which importing this package does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler import lazy

if TYPE_CHECKING:
    from reconciler.emulator.server import ServeError, serve
    from reconciler.emulator.testing import EmulatorProcess

# public name -> (module, name in the module)
_EXPORTS = {
    "EmulatorProcess": ("reconciler.emulator.testing", "EmulatorProcess"),
    "ServeError": ("reconciler.emulator.server", "ServeError"),
    "serve": ("reconciler.emulator.server", "serve"),
}

__all__ = ["EmulatorProcess", "ServeError", "serve"]


__getattr__ = lazy.exports(__name__, _EXPORTS)
