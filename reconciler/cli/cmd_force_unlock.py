"""Remove the lock an apply left on a vault (the `asr-lock` tag), for when its holder
is known to be gone (a killed pipeline) and you cannot wait for the lease to expire.

LOCK_ID is the one the "locked by another apply" error prints; a LOCK_ID that does
not match the current lock is refused and nothing is changed, so a lock taken since
by another apply is never removed by mistake. Names the holder it removes. Asks for
confirmation on a terminal (--yes skips it; without a terminal --yes is required).
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  asr force-unlock examples/quickstart.yaml 3f2a9c41d0be
  asr force-unlock examples/quickstart.yaml 3f2a9c41d0be --yes     # pipelines"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from reconciler.cli.common import add_approve_argument

    p.add_argument("file", metavar="FILE", help="the manifest of the vault")
    p.add_argument("lock_id", metavar="LOCK_ID", help="the lock ID printed by the `locked by another apply` error")
    add_approve_argument(p)


def run(args: argparse.Namespace) -> int:
    from reconciler.apply import LOCK_TAG as TAG
    from reconciler.apply import LeaseInfo, force_unlock
    from reconciler.azure import Clients, azure_errors
    from reconciler.cli.common import load_manifest
    from reconciler.errors import UsageError
    from reconciler.ops import ensure_can_confirm

    manifest = load_manifest(args.file)
    rg, vault = manifest.vault.resource_group, manifest.vault.name
    clients = Clients(manifest.subscription)
    try:
        with azure_errors(f"read vault {vault}"):
            tags = dict(clients.vaults.vaults.get(rg, vault).as_dict().get("tags") or {})
        current = LeaseInfo.parse(tags.get(TAG))
        if current is None:
            raise UsageError(f"vault {vault} is not locked; nothing to unlock")
        if current.lock_id != args.lock_id.strip().lower():
            raise UsageError(f"lock ID {args.lock_id} does not match the lock of vault {vault} (lock ID "
                             f"{current.lock_id}, held by {current.describe()}); nothing was changed",
                             hint="copy the lock ID from the `locked by another apply` error")
        expired = " (its lease has expired)" if current.expired() else ""
        print(f"Vault {vault} is locked by {current.describe()}, lock ID {current.lock_id}{expired}.", flush=True)
        ensure_can_confirm(args.yes)
        if not args.yes:
            answer = input("Remove this lock? An apply still running under it stops at its next renewal. "
                           "Only 'yes' will be accepted: ")
            if answer.strip() != "yes":
                raise UsageError("force-unlock cancelled; nothing was changed")
        with azure_errors(f"unlock vault {vault}"):
            removed = force_unlock(clients, rg, vault, args.lock_id)
    finally:
        clients.close()
    print(f"Removed the lock {removed.lock_id} of vault {vault} held by {removed.describe()}.", file=sys.stdout)
    return 0
