"""Write the registration kit for the VMM servers and Hyper-V sites of a manifest:
the vault credentials file(s) (a certificate uploaded to the vault; written with mode
0600 and never printed) and a PowerShell script per VMM server / Hyper-V site with the
silent provider install, registration, Recovery Services agent install
(MARSAgentInstaller.exe /q /nu) and proxy settings. Prints what to do next; runs
nothing on-premises.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr vault-credentials examples/quickstart.yaml --proxy http://proxy:3128
  (the kit goes to ~/.asr/kit/<vault>; keep it out of a git working tree)

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("file", metavar="FILE", help="the manifest")
    p.add_argument("--out", metavar="DIR",
                   help="folder to write the kit to (default ~/.asr/kit/VAULT; created with mode 0700; "
                        "refused if others can write it)")
    p.add_argument("--proxy", metavar="URL", help="proxy the servers use to reach Azure, http://HOST:PORT")
    p.add_argument("--proxy-user", metavar="NAME",
                   help="proxy user name; the scripts ask for the password when they run (never stored)")


def run(args: argparse.Namespace) -> int:
    from reconciler.ops import OpsContext, Proxy, write_kit

    proxy = Proxy.parse(args.proxy, args.proxy_user) if args.proxy else None
    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    kit = write_kit(ctx, args.out, proxy=proxy)
    ctx.say(kit.instructions)
    return 0
