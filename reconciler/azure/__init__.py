"""Azure through the real SDK: the clients, the credential, error translation, the write
sender and job follower, the heartbeat.

The public names below are what other packages (the CLI) use; the modules are internal
(docs/design.md, "Public surface"). Names load their module on first use, so importing
the package does not load the Azure SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler import lazy

if TYPE_CHECKING:
    from reconciler.azure.clients import Clients
    from reconciler.azure.credentials import redact
    from reconciler.azure.errors import azure_errors, translate
    from reconciler.azure.waiting import heartbeat

# public name -> (module, name in the module)
_EXPORTS = {
    "Clients": ("reconciler.azure.clients", "Clients"),
    "azure_errors": ("reconciler.azure.errors", "azure_errors"),
    "heartbeat": ("reconciler.azure.waiting", "heartbeat"),
    "redact": ("reconciler.azure.credentials", "redact"),
    "translate": ("reconciler.azure.errors", "translate"),
}

__all__ = ["Clients", "azure_errors", "heartbeat", "redact", "translate"]


__getattr__ = lazy.exports(__name__, _EXPORTS)
