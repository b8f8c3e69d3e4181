"""Framework pieces in process: route table, paging tokens, state, clock, scheduler."""

from __future__ import annotations

import pytest

from reconciler.emulator.framework import ArmError, Ctx, RouteTable, check_if_match, derive_action, paged
from reconciler.emulator.state import EmulatorConfig, EmulatorState, SimClock, resource_type_of


def _h(ctx):
    return {"ok": True}


def _ctx(state, path, query=None, route=None, headers=None):
    return Ctx(state=state, method="GET", path=path, params={"subscriptionId": "s"}, query=query or {},
               headers=headers or {}, body=None, raw_body=b"", principal=None, base_url="https://127.0.0.1:1", route=route)


def test_route_match_is_case_insensitive_and_prefers_literals():
    rt = RouteTable()
    rt.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.X/things/{name}", _h, api_versions="1")
    special = rt.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.X/things/default", _h, api_versions="1")
    route, params = rt.match("GET", "/Subscriptions/abc/providers/microsoft.x/THINGS/t1")
    assert params == {"subscriptionId": "abc", "name": "t1"}
    route, _ = rt.match("GET", "/subscriptions/abc/providers/Microsoft.X/things/default")
    assert route is special


def test_route_405_with_allow_and_404_codes():
    rt = RouteTable()
    rt.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.X/things/{name}", _h, api_versions="1")
    rt.add("PUT", "/subscriptions/{subscriptionId}/providers/Microsoft.X/things/{name}", _h, api_versions="1")
    with pytest.raises(ArmError) as e:
        rt.match("POST", "/subscriptions/a/providers/Microsoft.X/things/b")
    assert e.value.status == 405 and e.value.headers["Allow"] == "GET, PUT"
    with pytest.raises(ArmError) as e:
        rt.match("GET", "/subscriptions/a/providers/Microsoft.X/widgets/b")
    assert (e.value.status, e.value.code) == (404, "InvalidResourceType")
    with pytest.raises(ArmError) as e:
        rt.match("GET", "/subscriptions/a/providers/Microsoft.Nope/widgets/b")
    assert (e.value.status, e.value.code) == (404, "NoRegisteredProviderFound")


def test_duplicate_route_rejected():
    rt = RouteTable()
    rt.add("GET", "/a/{b}", _h, api_versions=None)
    with pytest.raises(ValueError):
        rt.add("GET", "/A/{c}", _h, api_versions=None)  # same paths, other parameter name
    rt.add("PUT", "/a/{b}", _h, api_versions=None)  # another method is another route


def test_derived_rbac_actions():
    base = "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{v}"
    assert derive_action("PUT", base + "/replicationPolicies/{p}") == "Microsoft.RecoveryServices/vaults/replicationPolicies/write"
    assert derive_action("GET", base) == "Microsoft.RecoveryServices/vaults/read"
    assert derive_action("DELETE", base) == "Microsoft.RecoveryServices/vaults/delete"
    assert derive_action("POST", base + "/replicationFabrics/{f}/replicationProtectionContainers/{c}/replicationProtectedItems/{i}/testFailover") == \
        "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems/testFailover/action"
    assert derive_action("PUT", "/subscriptions/{s}/resourcegroups/{rg}") == "Microsoft.Resources/subscriptions/resourceGroups/write"


def test_paged_walks_every_item_once_and_keeps_filter():
    state = EmulatorState(EmulatorConfig(page_size=3))
    items = [{"i": i} for i in range(8)]
    seen, query, pages = [], {"api-version": "1", "$filter": "x eq 'y'"}, 0
    while True:
        page = paged(_ctx(state, "/subscriptions/s/things", query), items)
        pages += 1
        seen += page["value"]
        if "nextLink" not in page:
            break
        from urllib.parse import parse_qs, urlparse

        link = urlparse(page["nextLink"])
        assert link.netloc == "127.0.0.1:1" and link.path == "/subscriptions/s/things"
        query = {k: v[0] for k, v in parse_qs(link.query).items()}
        assert query["$filter"] == "x eq 'y'"
    assert seen == items and pages == 3


def test_paged_rejects_garbage_token():
    state = EmulatorState()
    with pytest.raises(ArmError) as e:
        paged(_ctx(state, "/x", {"$skiptoken": "!!!"}), [1, 2])
    assert e.value.status == 400


def test_state_index_and_recursive_delete():
    s = EmulatorState()
    s.put("/subscriptions/s/resourceGroups/RG", {"n": "rg"})
    s.put("/subscriptions/s/resourceGroups/RG/providers/Microsoft.X/a/one", {"n": 1})
    s.put("/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/a/one/b/two", {"n": 2})
    assert s.get("/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.x/A/ONE") == {"n": 1}
    assert [r["n"] for r in s.find("Microsoft.X/a/b", "/subscriptions/s/resourceGroups/rg")] == [2]
    assert s.children("/subscriptions/s/resourcegroups/rg/providers/Microsoft.X/a/one", "B") == [{"n": 2}]
    s.delete("/subscriptions/s/resourceGroups/rg")
    assert s.all_ids() == [] and list(s.find("Microsoft.X/a")) == []
    assert resource_type_of("/subscriptions/s/resourceGroups/rg") == "Microsoft.Resources/resourceGroups"


def test_clock_scale_advance_and_scheduler_order():
    s = EmulatorState(EmulatorConfig(time_scale=1000))
    fired = []
    t0 = s.now()
    s.schedule(t0 + 7200, lambda: fired.append("late"))
    s.schedule(t0 + 60, lambda: fired.append("early"))
    s.run_due()
    assert fired == []
    s.advance(3600)
    assert fired == ["early"]
    s.advance(3600)
    assert fired == ["early", "late"]
    assert s.retry_after(30) == 1  # 30 simulated seconds at x1000 round up to 1 real second
    c = SimClock(scale=2)
    a = c.now()
    c.advance(10)
    assert 10 <= c.now() - a < 11


def test_operation_completes_by_itself():
    s = EmulatorState()
    op = s.new_operation("x", result=lambda: {"id": "r"}, done_in=5)
    assert not op.done
    s.advance(5)
    assert op.done and op.status == "Succeeded" and op.result() == {"id": "r"}


def test_if_match_and_if_none_match():
    s = EmulatorState()
    res = {"etag": 'W/"1"'}
    check_if_match(_ctx(s, "/x", headers={"if-match": 'W/"1"'}), res)
    with pytest.raises(ArmError) as e:
        check_if_match(_ctx(s, "/x", headers={"if-match": 'W/"2"'}), res)
    assert (e.value.status, e.value.code) == (412, "PreconditionFailed")
    with pytest.raises(ArmError):
        check_if_match(_ctx(s, "/x", headers={"if-none-match": "*"}), res)
    check_if_match(_ctx(s, "/x", headers={"if-none-match": "*"}), None)


def test_paged_renders_only_the_page():
    state = EmulatorState(EmulatorConfig(page_size=2))
    rendered = []

    def render(x):
        rendered.append(x)
        return {"n": x}

    page = paged(_ctx(state, "/x", {"api-version": "1"}), list(range(1000)), render=render)
    assert page["value"] == [{"n": 0}, {"n": 1}] and rendered == [0, 1] and "nextLink" in page
    assert paged(_ctx(state, "/x", {"api-version": "1"}), iter([1, 2, 3]))["value"] == [1, 2]


def test_callbacks_see_their_own_time_and_chains_unfold_in_one_advance():
    s = EmulatorState()
    t0 = s.now()
    seen = []

    def step(n):
        seen.append(round(s.now() - t0))
        if n < 3:
            s.schedule_in(100, lambda: step(n + 1))

    s.schedule(t0 + 100, lambda: step(1))
    s.advance(1000)
    assert seen == [100, 200, 300]
    assert s.now() - t0 >= 1000
