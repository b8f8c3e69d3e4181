"""What SAMPLES (test_round_trip.py) cannot carry for the target's storage accounts and virtual networks:

- `location`, derived from the vault's region: tests/kinds/test_location_round_trip.py;
- `existing: true`, an instruction to asr that Azure does not record (export never writes it): such an
  account or network is never created nor changed.
"""

from __future__ import annotations

from reconciler.manifest.models import StorageSku
from reconciler.plan import make_plan
from reconciler.plan.model import Action, Reason

SA, NET = "storage_account.contosoasrlogs01", "virtual_network.corp-vnet"



def test_existing_is_never_created_nor_changed():
    from livebuilder import applied, example_path

    from reconciler.manifest import load_manifest

    m = load_manifest(example_path("quickstart"))
    live = applied(m)
    sa, net = m.target.storage_accounts[0], m.target.networks[0]
    sa.sku = StorageSku.STANDARD_GRS
    net.subnets[0].address_prefix = "10.10.3.0/24"

    # not `existing`: both are updated in place (sku by PATCH, the subnet by the vnet's read-modify-write)
    work = {c.address: c for c in make_plan(m, live, "q.yaml").changes if c.action != Action.NOOP}
    assert work[SA].action == Action.UPDATE and work[SA].requests[0].args["parameters"] == {"sku": {"name": "Standard_GRS"}}
    assert work[NET].action == Action.UPDATE
    subnets = work[NET].requests[0].args["parameters"]["properties"]["subnets"]
    assert [(s["name"], s["properties"]["addressPrefix"]) for s in subnets] == [("servers", "10.10.3.0/24")]

    # `existing`: left as they are, the difference a warning
    sa.existing = net.existing = True
    plan = make_plan(m, live, "q.yaml")
    assert plan.by_address()[SA].action == Action.NOOP and plan.by_address()[NET].action == Action.NOOP
    assert any(SA in w and "sku" in w and "left unchanged" in w for w in plan.warnings), plan.warnings
    assert any(NET in w and "subnets" in w and "left unchanged" in w for w in plan.warnings), plan.warnings

    # `existing` and missing: a manual step, never a create
    live.storage_accounts.clear()
    live.virtual_networks.pop("corp-vnet")
    plan = make_plan(m, live, "q.yaml")
    for addr in (SA, NET):
        c = plan.by_address()[addr]
        assert c.action == Action.MANUAL and c.reason == Reason.EXISTING_REQUIRED and not c.requests, addr
