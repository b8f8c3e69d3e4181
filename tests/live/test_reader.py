"""read_live_state against fake SDK clients that hand back SDK model objects."""

import os
import sys
import threading
import time

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.recoveryservicessiterecovery import models as srm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "plan"))
from livebuilder import applied, example_path  # noqa: E402

from reconciler.live import read_live_state  # noqa: E402
from reconciler.manifest import load_manifest  # noqa: E402
from reconciler.plan.fingerprint import live_fingerprint  # noqa: E402


class Counter:
    def __init__(self):
        self.n = 0

    def snapshot(self):
        return {"requests": self.n}


class Recorder:
    def __init__(self, delay=0.05):
        self.calls = []
        self.delay = delay
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.counter = Counter()

    def call(self, name, result, *args, **kwargs):
        with self.lock:
            self.calls.append((name, args, kwargs))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.counter.n += 1
        time.sleep(self.delay)
        with self.lock:
            self.active -= 1
        if isinstance(result, Exception):
            raise result
        return result


class Group:
    def __init__(self, rec, prefix, methods):
        self._rec, self._prefix, self._methods = rec, prefix, methods

    def __getattr__(self, name):
        if name not in self._methods:
            raise AttributeError(name)
        return lambda *a, **k: self._rec.call(f"{self._prefix}.{name}", self._methods[name](*a, **k), *a, **k)


class Obj:
    pass


class FakeResponse:
    def __init__(self, status, body):
        import json as _json

        self.status_code = status
        self._body = body
        self.reason = "OK" if status == 200 else "Not Found"
        self.headers = {"Content-Type": "application/json"}
        self.content_type = "application/json"
        self.request = None
        self._text = _json.dumps(body)

    def json(self):
        return self._body

    def text(self, encoding=None):
        return self._text

    def body(self):
        return self._text.encode()


class FakeSiteRecovery(Obj):
    """send_request for the raw paged lists: serves 2 items per page with a nextLink."""

    PAGE = 2

    def __init__(self, rec, live, jobs, vault_missing, page=2):
        self._rec, self._live, self._jobs, self._missing = rec, live, jobs, vault_missing
        self.PAGE = page

    def send_request(self, request):
        from urllib.parse import parse_qs, urlparse

        url = urlparse(request.url)
        q = parse_qs(url.query)
        assert q["api-version"] == ["2025-08-01"], request.url  # the SDK's api-version, on every page
        path = url.path.lower()
        if self._missing:
            return self._rec.call("sr.raw", FakeResponse(404, {"error": {"code": "ResourceNotFound", "message": "x"}}))
        if path.endswith("/replicationprotecteditems"):
            items, name = self._live.protected_items, "sr.protected_items.page"
        elif path.endswith("/replicationjobs"):
            assert q["$filter"][0].startswith("startTime ge ")
            items, name = self._jobs, "sr.jobs.page"
        elif path.endswith("/replicationprotectableitems"):
            cont = path.split("/replicationprotectioncontainers/")[1].split("/")[0]
            items = [i for cid, its in self._live.protectable_items.items() if cid.endswith("/" + cont) for i in its]
            name = "sr.protectable.page"
        else:
            raise AssertionError(request.url)
        start = int(q.get("$skiptoken", ["0"])[0])
        body = {"value": items[start:start + self.PAGE]}
        if start + self.PAGE < len(items):
            body["nextLink"] = f"https://arm.invalid{url.path}?api-version=2025-08-01&$skiptoken={start + self.PAGE}"
        return self._rec.call(name, FakeResponse(200, body))


def fake_clients(live, rec, vault_missing=False, page=2):
    nf = ResourceNotFoundError("not found")
    lst = lambda items, model=None: (lambda *a, **k: nf if vault_missing else [model(i) if model else i for i in items])  # noqa: E731
    jobs = [{"id": "j1", "name": "j1", "properties": {"state": "Succeeded"}},
            {"id": "j2", "name": "j2", "properties": {"state": "InProgress"}}]
    sr = FakeSiteRecovery(rec, live, jobs, vault_missing, page)
    sr.replication_fabrics = Group(rec, "sr.fabrics", {"list": lst(live.fabrics, srm.Fabric)})
    sr.replication_recovery_services_providers = Group(rec, "sr.providers", {"list": lst(live.providers, srm.RecoveryServicesProvider)})
    sr.replication_protection_containers = Group(rec, "sr.containers", {"list": lst(live.containers, srm.ProtectionContainer)})
    sr.replication_networks = Group(rec, "sr.networks", {"list": lst(live.replication_networks, srm.Network)})
    sr.replication_policies = Group(rec, "sr.policies", {"list": lst(live.policies, srm.Policy)})
    sr.replication_protection_container_mappings = Group(rec, "sr.mappings", {"list": lst(live.container_mappings, srm.ProtectionContainerMapping)})
    sr.replication_network_mappings = Group(rec, "sr.network_mappings", {"list": lst(live.network_mappings, srm.NetworkMapping)})
    sr.replication_recovery_plans = Group(rec, "sr.recovery_plans", {"list": lst(live.recovery_plans, srm.RecoveryPlan)})
    c = Obj()
    c.counter = rec.counter
    c.subscription_id = live.subscription
    c.site_recovery = lambda *a: sr
    c.resources = Obj()
    c.resources.resource_groups = Group(rec, "rg", {"list": lambda: list(live.resource_groups.values())})
    c.vaults = Obj()
    c.vaults.vaults = Group(rec, "vaults", {"get": lambda rg, v: nf if vault_missing else live.vault})
    c.storage = Obj()
    c.storage.storage_accounts = Group(rec, "storage", {"list_by_resource_group": lambda rg: list(live.storage_accounts.values())})
    c.network = Obj()
    c.network.virtual_networks = Group(rec, "vnets", {"list": lambda rg: list(live.virtual_networks.values())})
    return c


@pytest.mark.parametrize("name", ["quickstart", "multi-cloud", "hyperv-site"])
def test_reads_everything_with_vault_level_lists_concurrently(name):
    m = load_manifest(example_path(name))
    truth = applied(m)
    rec = Recorder()
    live = read_live_state(fake_clients(truth, rec), m)
    names = [c[0] for c in rec.calls]
    # one vault-level list per kind, never a GET per VM
    for kind in ("sr.fabrics.list", "sr.policies.list", "sr.recovery_plans.list",
                 "sr.mappings.list", "sr.network_mappings.list", "sr.containers.list", "sr.providers.list"):
        assert names.count(kind) == 1, kind
    # the vault-level protected item list, page by page (2 per page here)
    assert names.count("sr.protected_items.page") == -(-len(truth.protected_items) // 2)
    assert not any(n.endswith(".get") and n != "vaults.get" for n in names)
    # every declared VM is protected: no discovered-VM list needed
    assert names.count("sr.protectable.page") == 0
    assert rec.max_active >= 4  # independent lists in flight together
    assert live.requests_made == len(names)
    # the same state as what was served, as REST dicts
    assert [p["id"] for p in live.protected_items] == [p["id"] for p in truth.protected_items]
    assert isinstance(live.protected_items[0], dict) and "properties" in live.protected_items[0]
    assert [j["name"] for j in live.jobs] == ["j2"]  # finished jobs dropped
    assert live_fingerprint(live) == live_fingerprint(truth)


def test_discovered_vms_read_only_where_a_declared_vm_is_not_protected():
    m = load_manifest(example_path("multi-cloud"))
    truth = applied(m)
    gone = {"dev-ams01", "sql-rtm01"}
    truth.protected_items = [i for i in truth.protected_items if i["properties"]["friendlyName"] not in gone]
    rec = Recorder(delay=0)
    live = read_live_state(fake_clients(truth, rec), m)
    pages = [c for c in rec.calls if c[0] == "sr.protectable.page"]
    # two containers (vmm-ams01/Silver: 3 VMs -> 2 pages; vmm-rtm01/Gold: 3 VMs -> 2 pages)
    assert len(pages) == 4
    assert {k for k in live.protectable_items} == {
        truth.container("vmm-ams01", "Silver")["id"].lower(), truth.container("vmm-rtm01", "Gold")["id"].lower()}
    assert live.protectable_item(truth.container("vmm-ams01", "Silver")["id"], "dev-ams01") is not None


def test_missing_vault_reads_as_empty():
    m = load_manifest(example_path("quickstart"))
    rec = Recorder(delay=0)
    live = read_live_state(fake_clients(applied(m), rec, vault_missing=True), m)
    assert live.vault is None and live.protected_items == [] and live.fabrics == []


def test_request_count_independent_of_vm_count():
    m = load_manifest(example_path("quickstart"))
    small = applied(m)
    base = m.protected_vms[1]
    m.protected_vms = [base.model_copy(update={"name": f"vm{i}"}) for i in range(300)]
    m.recovery_plans = []
    from livebuilder import Builder

    big = Builder(m).azure_resources().register().applied_vault_objects().build()
    r1, r2 = Recorder(delay=0), Recorder(delay=0)
    read_live_state(fake_clients(small, r1, page=1000), load_manifest(example_path("quickstart")))
    read_live_state(fake_clients(big, r2, page=1000), m)
    assert len(r1.calls) == len(r2.calls)


def test_subscription_not_visible_is_an_error_not_an_empty_vault():
    from azure.core.exceptions import ResourceNotFoundError

    from reconciler.errors import NotFoundError

    m = load_manifest(example_path("quickstart"))
    rec = Recorder(delay=0)
    c = fake_clients(applied(m), rec)
    err = ResourceNotFoundError(response=FakeResponse(404, {"error": {"code": "SubscriptionNotFound",
                                                                     "message": "The subscription could not be found."}}))
    c.resources.resource_groups = Group(rec, "rg", {"list": lambda: err})
    with pytest.raises(NotFoundError) as info:
        read_live_state(c, m)
    assert "another subscription" in info.value.hint
    assert m.subscription in info.value.message
