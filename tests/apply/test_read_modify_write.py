"""Read-modify-write: what asr updates but does not fully own is left as found.

Settings made elsewhere (through the SDK, as the portal would) on a managed virtual
network, subnet, vault, storage account, resource group or recovery plan survive an
`asr apply` that changes something declared next to them; a plan shows them as
unmanaged; only `prune:` removes them, shown in the plan (a subnet: as a destroy that
needs --allow-destroy). A plan after each apply is empty."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
ESTATE = REPO / "examples" / "estates" / "quickstart.yaml"
RG, VAULT, TRG = "contoso-dr-rg", "contoso-asr-vault", "contoso-failover-rg"
SUB = "00000000-0000-0000-0000-000000000001"
NSG = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/networkSecurityGroups/servers-nsg"
RT = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/routeTables/servers-rt"


def _applied(emu, capsys) -> dict:
    emu.reset(estate=str(ESTATE), time_scale=600)
    assert asr(["apply", str(QUICKSTART), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()
    return yaml.safe_load(QUICKSTART.read_text())


def _write(tmp_path: Path, doc: dict, name: str = "site.yaml") -> str:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p)


def _plan_json(path: str, capsys) -> dict:
    capsys.readouterr()
    assert asr(["plan", path, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _plan_text(path: str, capsys) -> tuple[int, str]:
    capsys.readouterr()
    rc = asr(["plan", path, "--detailed-exitcode"])
    return rc, capsys.readouterr().out


def _apply(path: str, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = asr(["apply", path, "--auto-approve", "--log-format", "text", *extra])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def _empty_plan(path: str, capsys) -> None:
    rc, out = _plan_text(path, capsys)
    assert rc == 0, f"plan after apply is not empty:\n{out}"


def _vnet(clients, name: str = "corp-vnet") -> dict:
    return clients.network.virtual_networks.get(TRG, name).as_dict()


def _subnet(vnet: dict, name: str) -> dict | None:
    return next((s for s in vnet["properties"].get("subnets") or [] if s["name"] == name), None)


def _set_vnet_settings_elsewhere(clients) -> None:
    """What someone does in the portal: tags and DNS servers on the vnet, an NSG, a route
    table, a service endpoint and a delegation on its subnet."""
    net = clients.network
    body = _vnet(clients)
    body["tags"] = {"costCenter": "42", "owner": "netops"}
    body["properties"]["dhcpOptions"] = {"dnsServers": ["10.10.0.4", "10.10.0.5"]}
    net.virtual_networks.begin_create_or_update(TRG, "corp-vnet", body).result()
    sub = net.subnets.get(TRG, "corp-vnet", "servers").as_dict()
    sub["properties"]["networkSecurityGroup"] = {"id": NSG}
    sub["properties"]["routeTable"] = {"id": RT}
    sub["properties"]["serviceEndpoints"] = [{"service": "Microsoft.Storage", "locations": ["westeurope"]}]
    net.subnets.begin_create_or_update(TRG, "corp-vnet", "servers", sub).result()


def _assert_vnet_settings_kept(vnet: dict) -> None:
    assert vnet.get("tags") == {"costCenter": "42", "owner": "netops"}
    assert vnet["properties"]["dhcpOptions"]["dnsServers"] == ["10.10.0.4", "10.10.0.5"]
    servers = _subnet(vnet, "servers")["properties"]
    assert servers["networkSecurityGroup"]["id"].lower() == NSG.lower()
    assert servers["routeTable"]["id"].lower() == RT.lower()
    assert [e["service"] for e in servers["serviceEndpoints"]] == ["Microsoft.Storage"]


def test_vnet_settings_set_elsewhere_survive_an_added_subnet(emu, clients, tmp_path, capsys):
    doc = _applied(emu, capsys)
    _set_vnet_settings_elsewhere(clients)
    _empty_plan(str(QUICKSTART), capsys)  # nothing declared changed: no perpetual diff

    doc["target"]["networks"][0]["subnets"].append({"name": "apps", "addressPrefix": "10.10.2.0/24"})
    path = _write(tmp_path, doc)
    plan = _plan_json(path, capsys)
    work = {c["address"]: c for c in plan["changes"] if c["action"] != "noop"}
    assert set(work) == {"virtual_network.corp-vnet"}
    c = work["virtual_network.corp-vnet"]
    assert c["action"] == "update" and not c["destructive"]
    assert c["before"]["subnets"] == {"servers": "10.10.1.0/24"}
    assert c["after"]["subnets"] == {"apps": "10.10.2.0/24", "servers": "10.10.1.0/24"}  # added, none removed
    body = c["requests"][0]["args"]["parameters"]
    assert body["tags"] == {"costCenter": "42", "owner": "netops"}
    assert body["properties"]["dhcpOptions"]["dnsServers"] == ["10.10.0.4", "10.10.0.5"]
    assert _subnet(body, "servers")["properties"]["networkSecurityGroup"]["id"].lower() == NSG.lower()

    rc, out = _apply(path, capsys)
    assert rc == 0, out
    vnet = _vnet(clients)
    _assert_vnet_settings_kept(vnet)
    assert _subnet(vnet, "apps")["properties"]["addressPrefix"] == "10.10.2.0/24"
    _empty_plan(path, capsys)


def test_subnet_not_in_manifest_is_unmanaged_and_pruned_only_as_a_destroy(emu, clients, tmp_path, capsys):
    doc = _applied(emu, capsys)
    doc["target"]["networks"][0]["subnets"].append({"name": "legacy", "addressPrefix": "10.10.9.0/24"})
    with_legacy = _write(tmp_path, doc, "with-legacy.yaml")
    rc, out = _apply(with_legacy, capsys)
    assert rc == 0, out
    _set_vnet_settings_elsewhere(clients)

    doc["target"]["networks"][0]["subnets"] = [s for s in doc["target"]["networks"][0]["subnets"] if s["name"] != "legacy"]
    without = _write(tmp_path, doc, "without-legacy.yaml")
    rc, out = _plan_text(without, capsys)
    assert rc == 0, out  # no changes: the subnet is not removed by an update
    assert "? subnet.corp-vnet/legacy" in out
    plan = _plan_json(without, capsys)
    assert {"kind": "subnet", "name": "corp-vnet/legacy"}.items() <= next(
        u for u in plan["unmanaged"] if u["kind"] == "subnet").items()
    rc, out = _apply(without, capsys)
    assert rc == 0, out
    assert _subnet(_vnet(clients), "legacy") is not None

    doc["prune"] = {"subnets": True}
    pruned = _write(tmp_path, doc, "pruned.yaml")
    plan = _plan_json(pruned, capsys)
    work = {c["address"]: c for c in plan["changes"] if c["action"] != "noop"}
    assert set(work) == {"subnet.corp-vnet/legacy"}
    c = work["subnet.corp-vnet/legacy"]
    assert c["action"] == "delete" and c["destructive"] and c["kind"] == "subnet"
    assert [r["operation"] for r in c["requests"]] == ["network.subnets.begin_delete"]
    assert plan["summary"]["destroy"] == 1

    rc, out = _apply(pruned, capsys)
    assert rc == 1 and "--allow-destroy" in out and "subnet.corp-vnet/legacy" in out
    assert _subnet(_vnet(clients), "legacy") is not None
    rc, out = _apply(pruned, capsys, "--allow-destroy")
    assert rc == 0, out
    vnet = _vnet(clients)
    assert _subnet(vnet, "legacy") is None
    _assert_vnet_settings_kept(vnet)  # the delete touched nothing else
    _empty_plan(pruned, capsys)


def test_undeclared_tags_survive_and_are_pruned_only_on_request(emu, clients, tmp_path, capsys):
    doc = _applied(emu, capsys)
    clients.vaults.vaults.begin_update(RG, VAULT, {"tags": {"env": "prod", "owner": "it-ops", "costCenter": "42"}}).result()
    clients.storage.storage_accounts.update(TRG, "contosoasrlogs01", {"tags": {"backup": "daily"}})
    for rg in (RG, TRG):
        clients.resources.resource_groups.update(rg, {"tags": {"billing": "dr"}})

    _empty_plan(str(QUICKSTART), capsys)  # undeclared tags are no diff
    plan = _plan_json(str(QUICKSTART), capsys)
    assert any(u["kind"] == "vault" and u.get("part") == "tags.costCenter" for u in plan["unmanaged"])

    doc["vault"]["tags"]["owner"] = "dr-team"
    doc["target"]["storageAccounts"][0]["sku"] = "Standard_GRS"
    path = _write(tmp_path, doc)
    rc, out = _apply(path, capsys)
    assert rc == 0, out
    vault = clients.vaults.vaults.get(RG, VAULT).as_dict()
    assert {k: v for k, v in vault["tags"].items() if k != "asr-lock"} == {"env": "prod", "owner": "dr-team", "costCenter": "42"}
    acc = clients.storage.storage_accounts.get_properties(TRG, "contosoasrlogs01").as_dict()
    assert acc["sku"]["name"] == "Standard_GRS" and acc["tags"] == {"backup": "daily"}
    assert acc["properties"]["minimumTlsVersion"] == "TLS1_2" and acc["properties"]["allowBlobPublicAccess"] is False
    for rg in (RG, TRG):
        assert clients.resources.resource_groups.get(rg).as_dict()["tags"] == {"billing": "dr"}
    _empty_plan(path, capsys)

    doc["prune"] = {"tags": True}
    pruned = _write(tmp_path, doc, "pruned.yaml")
    plan = _plan_json(pruned, capsys)
    (c,) = [c for c in plan["changes"] if c["action"] != "noop"]
    assert c["address"] == f"vault.{VAULT}" and c["action"] == "update"
    assert "costCenter" in c["before"]["tags"] and "costCenter" not in c["after"]["tags"]
    assert c["removes"] == ["tags.costCenter"]
    rc, out = _apply(pruned, capsys)  # removing what was never declared is a destroy
    assert rc == 1 and "--allow-destroy" in out and "removes tags.costCenter" in out
    assert clients.vaults.vaults.get(RG, VAULT).as_dict()["tags"].get("costCenter") == "42"
    rc, out = _apply(pruned, capsys, "--allow-destroy")
    assert rc == 0, out
    vault = clients.vaults.vaults.get(RG, VAULT).as_dict()
    assert {k: v for k, v in (vault.get("tags") or {}).items() if k != "asr-lock"} == {"env": "prod", "owner": "dr-team"}
    _empty_plan(pruned, capsys)


def _manual(name: str, text: str) -> dict:
    return {"actionName": name, "failoverTypes": ["TestFailover", "PlannedFailover", "UnplannedFailover"],
            "failoverDirections": ["PrimaryToRecovery", "RecoveryToPrimary"],
            "customDetails": {"instanceType": "ManualActionDetails", "description": text}}


def _rp_groups(clients) -> list[dict]:
    return clients.site_recovery().replication_recovery_plans.get(RG, VAULT, "tier1").as_dict()["properties"]["groups"]


def test_recovery_plan_actions_survive_a_membership_change(emu, clients, tmp_path, capsys):
    doc = _applied(emu, capsys)
    groups = _rp_groups(clients)
    assert [g["groupType"] for g in groups] == ["Shutdown", "Failover", "Boot", "Boot"]
    groups[0]["startGroupActions"] = [_manual("announce", "Tell the service desk")]
    groups[2]["endGroupActions"] = [_manual("check-sql", "Check that SQL Server answers")]
    sr = clients.site_recovery()
    sr.replication_recovery_plans.begin_update(RG, VAULT, "tier1", {"properties": {"groups": groups}}, polling=False)
    emu.advance(900)  # its update job ends in simulated time (no SDK poller sleeping its Retry-After)

    rc, out = _plan_text(str(QUICKSTART), capsys)
    assert rc == 0 and "No changes" in out, out
    assert "? recovery_plan.tier1: groups.Boot[1].endGroupActions.check-sql (ManualActionDetails)" in out
    assert "? recovery_plan.tier1: groups.Shutdown.startGroupActions.announce (ManualActionDetails)" in out
    plan = _plan_json(str(QUICKSTART), capsys)
    parts = {u["part"] for u in plan["unmanaged"] if u["kind"] == "recovery_plan"}
    assert parts == {"groups.Boot[1].endGroupActions.check-sql", "groups.Shutdown.startGroupActions.announce"}

    doc["recoveryPlans"][0]["groups"] = [{"vms": ["sql01", "web01"]}, {"vms": ["app01", "app02"]}]
    path = _write(tmp_path, doc)
    rc, out = _apply(path, capsys)
    assert rc == 0, out
    after = _rp_groups(clients)
    boots = [g for g in after if g["groupType"] == "Boot"]
    assert [a["actionName"] for a in boots[0]["endGroupActions"]] == ["check-sql"]
    assert boots[0]["endGroupActions"][0]["customDetails"]["description"] == "Check that SQL Server answers"
    assert [a["actionName"] for a in after[0]["startGroupActions"]] == ["announce"]
    assert len(boots) == 2 and len(boots[0]["replicationProtectedItems"]) == 2
    _empty_plan(path, capsys)

    doc["prune"] = {"recoveryPlanActions": True}
    pruned = _write(tmp_path, doc, "pruned.yaml")
    plan = _plan_json(pruned, capsys)
    (c,) = [c for c in plan["changes"] if c["action"] != "noop"]
    assert c["address"] == "recovery_plan.tier1" and c["action"] == "update"
    assert len(c["before"]["actions"]) == 2 and c["after"]["actions"] == [] and len(c["removes"]) == 2
    rc, out = _apply(pruned, capsys)
    assert rc == 1 and "--allow-destroy" in out and "recovery_plan.tier1 (update, removes groups." in out
    rc, out = _apply(pruned, capsys, "--allow-destroy")
    assert rc == 0, out
    assert all(not g["startGroupActions"] and not g["endGroupActions"] for g in _rp_groups(clients))
    _empty_plan(pruned, capsys)
