"""Site Recovery email notifications: `vaults/{v}/replicationAlertSettings` (2025-08-01).

GET / PUT `.../replicationAlertSettings/{alertSettingName}` and the list, shaped as
ReplicationAlertSettings_Get.json / _Create.json / _List.json (siterecovery spec
examples): `{"id", "name": "defaultAlertSetting", "type":
"Microsoft.RecoveryServices/vaults/replicationAlertSettings", "properties":
{"sendToOwners", "customEmailAddresses", "locale"}}`. PUT answers 200 with the setting
(a plain, not long-running, operation in the SDK). A vault that was never configured
answers its default setting (sendToOwners "DoNotSend", no addresses): a guess, marked
in docs/fidelity.md. The setting lives under the vault and goes with it.
"""

from __future__ import annotations

from reconciler.emulator.framework import ArmError, Ctx, RouteTable, paged

API = ("2025-08-01",)
V = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.RecoveryServices/vaults/{resourceName}"
TYPE = "Microsoft.RecoveryServices/vaults/replicationAlertSettings"
DEFAULT = "defaultAlertSetting"


def register(routes: RouteTable) -> None:
    routes.add("GET", V + "/replicationAlertSettings", list_settings, api_versions=API)
    routes.add("GET", V + "/replicationAlertSettings/{alertSettingName}", get_setting, api_versions=API)
    routes.add("PUT", V + "/replicationAlertSettings/{alertSettingName}", put_setting, api_versions=API)


def _vault(ctx: Ctx) -> dict:
    rid = (f"/subscriptions/{ctx.subscription_id}/resourceGroups/{ctx.params['resourceGroupName']}"
           f"/providers/Microsoft.RecoveryServices/vaults/{ctx.params['resourceName']}")
    vault = ctx.state.get(rid)
    if vault is None:
        raise ArmError(404, "ResourceNotFound", f"The Resource 'Microsoft.RecoveryServices/vaults/{ctx.params['resourceName']}' "
                       f"under resource group '{ctx.params['resourceGroupName']}' was not found.")
    return vault


def _default(vault: dict, name: str = DEFAULT) -> dict:
    return {"id": f"{vault['id']}/replicationAlertSettings/{name}", "name": name, "type": TYPE,
            "properties": {"sendToOwners": "DoNotSend", "customEmailAddresses": [], "locale": ""}}


def _stored(ctx: Ctx, vault: dict, name: str) -> dict:
    return ctx.state.get(f"{vault['id']}/replicationAlertSettings/{name}") or _default(vault, name)


def list_settings(ctx: Ctx) -> dict:
    vault = _vault(ctx)
    items = list(ctx.state.children(vault["id"], "replicationAlertSettings")) or [_default(vault)]
    return paged(ctx, items)


def get_setting(ctx: Ctx) -> dict:
    return _stored(ctx, _vault(ctx), ctx.params["alertSettingName"])


def put_setting(ctx: Ctx) -> dict:
    vault = _vault(ctx)
    body = ctx.require_body()
    props = body.get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties' is required.", target="properties")
    name = ctx.params["alertSettingName"]
    current = _stored(ctx, vault, name)
    out = dict(current, properties=dict(current["properties"]))
    send = props.get("sendToOwners")
    if send is not None:
        if str(send).lower() not in ("send", "donotsend", "true", "false"):
            raise ArmError(400, "InvalidRequestContent", f"sendToOwners '{send}' must be Send or DoNotSend.", target="properties.sendToOwners")
        out["properties"]["sendToOwners"] = str(send)
    emails = props.get("customEmailAddresses")
    if emails is not None:
        if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
            raise ArmError(400, "InvalidRequestContent", "customEmailAddresses must be a list of email addresses.",
                           target="properties.customEmailAddresses")
        out["properties"]["customEmailAddresses"] = list(emails)
    if props.get("locale") is not None:
        out["properties"]["locale"] = str(props["locale"])
    ctx.state.put(out["id"], out)
    return out
