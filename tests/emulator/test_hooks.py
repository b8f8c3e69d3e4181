"""Cross-provider hooks live on the emulator state, not in a process-wide registry:
each app's state gets the hooks its route table registered, a hook added to one state
reaches no other, and a reset starts from the route table's hooks again."""

from __future__ import annotations

from reconciler.emulator.app import EmulatorApp, build_routes
from reconciler.emulator.testing import call

SUB = "00000000-0000-0000-0000-000000000001"
API = "api-version=2026-11-01"
VAULT_URL = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.RecoveryServices/vaults/v1?{API}"
VAULT_BODY = {"location": "westeurope", "sku": {"name": "Standard"},
              "properties": {"redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant"}}}


def _app() -> EmulatorApp:
    app = EmulatorApp(estate={"subscription": SUB})
    call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?api-version=2025-04-01", json={"location": "westeurope"})
    assert call(app, "PUT", VAULT_URL, json=VAULT_BODY).status_code in (200, 201)
    app.state.advance(60)
    return app


def test_the_route_table_registers_the_hooks_every_state_gets():
    routes = build_routes()
    assert routes.hooks.names() == ["subnet.in_use", "vault.created", "vault.delete_blocker", "vault.deleted"]
    app = EmulatorApp(estate={"subscription": SUB})
    assert app.state.hooks.names() == routes.hooks.names()
    assert app.state.hooks is not app.routes.hooks  # a copy: adding to a state leaves the table alone


def test_a_hook_added_to_one_state_reaches_no_other_and_a_reset_drops_it():
    one, other = _app(), _app()
    one.state.hooks.add("vault.delete_blocker", lambda state, vault_id: "held by this test")
    r = call(one, "DELETE", VAULT_URL)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "ServiceResourceNotEmpty")
    assert "held by this test" in r.json()["error"]["message"]
    assert call(other, "DELETE", VAULT_URL).status_code in (200, 202, 204)  # the other app's vault goes
    one.reset(estate={"subscription": SUB})
    call(one, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?api-version=2025-04-01", json={"location": "westeurope"})
    call(one, "PUT", VAULT_URL, json=VAULT_BODY)
    one.state.advance(60)
    assert call(one, "DELETE", VAULT_URL).status_code in (200, 202, 204)  # the fresh state has only the table's hooks


def test_hooks_run_in_order_and_once_per_registration():
    from reconciler.emulator.state import Hooks

    hooks, seen = Hooks(), []

    def first(x):
        seen.append(("first", x))
        return 1

    hooks.add("e", first)
    hooks.add("e", first)  # idempotent
    hooks.add("e", lambda x: seen.append(("second", x)))
    assert hooks.call("e", 7) == [1, None]
    assert seen == [("first", 7), ("second", 7)]
    assert hooks.call("unknown", 1) == []
