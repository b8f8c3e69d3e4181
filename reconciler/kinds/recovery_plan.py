"""Recovery plans, declared once: boot groups of protected VMs, and the group actions.

A manifest declares a plan by name (`recoveryPlans[].name`, the plan's ARM name) with its boot groups
in failover order (`groups[]`: `vms`, protected VMs by name, failed over together; `before` / `after`,
the group's actions, reconciler/kinds/rpactions.py). A VM is looked up among the vault's protected items
(the `replicationProtectedItems` list, `properties.friendlyName`); a live group item's `id` is resolved
back to that name.

Fields:
- `groups`: the Boot groups' VMs, each group sorted by name (order inside a group means nothing, the
  order of groups does). Read from `properties.groups` (ASR's Shutdown and Failover groups, and Boot
  groups without VMs, left out); sent at create (CreateRecoveryPlanInput) and update
  (UpdateRecoveryPlanInput) as `properties.groups`, each VM as its protected item's id (a reference:
  `create_input` / `update_input` take the (id, name) pairs the planner resolves). Changed in place.
- `actions`, `actionDetails`: the plan's group actions (`startGroupActions` / `endGroupActions` of every
  group), as `groups.<Shutdown|Failover|Boot[n]>.<start|end>GroupActions.<actionName> (<type>)` and
  their compared settings (kinds/rpactions.summary). Not manifest keys of their own: they derive from
  `groups[].before` / `after` and from the actions Azure holds. An update replaces every group, so it is
  a read-modify-write (`merged_groups`): the declared actions first, then every action set elsewhere
  (portal, SDK: another name, any group, Shutdown and Failover included) kept as it is, unless
  `prune: {recoveryPlanActions: true}`, which removes them. These attrs are compared only when the plan
  has actions on either side (a plan without any shows just `groups`).
The plan's primary fabric (`primaryFabricId`, its VMs' fabric), recovery fabric (Microsoft Azure) and
deployment model (ResourceManager) are set at create and not compared.

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models RecoveryPlan / RecoveryPlanProperties
(groups), RecoveryPlanGroup (groupType, replicationProtectedItems, startGroupActions, endGroupActions),
RecoveryPlanProtectedItem (id, virtualMachineId), RecoveryPlanAction, CreateRecoveryPlanInput /
CreateRecoveryPlanInputProperties, UpdateRecoveryPlanInput / UpdateRecoveryPlanInputProperties;
ReplicationRecoveryPlans_Create.json, ReplicationRecoveryPlans_Update.json.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base, rpactions
from reconciler.kinds.base import Field
from reconciler.live.ids import AZURE_FABRIC, norm_id
from reconciler.live.state import props

__all__ = ["FIELDS", "REPLACE_FIELDS", "ACTION_KEYS", "desired_attrs", "live_attrs", "live_rp_groups",
           "rp_group_label", "live_rp_actions", "action_attrs", "groups_body", "merged_groups", "create_input",
           "update_input", "export_entry"]

ACTION_KEYS = ("startGroupActions", "endGroupActions")


def _members(group: Any) -> list[str]:
    """A group's VM names: a manifest group (`vms`), or a list of names already."""
    if isinstance(group, (list, tuple)):
        return [str(n) for n in group]
    vms = group.get("vms") if isinstance(group, dict) else getattr(group, "vms", None)
    return [str(n) for n in vms or []]


def norm_groups(groups: Any) -> list[list[str]]:
    """Boot groups as lists of VM names, sorted within a group, in failover order."""
    return [sorted(_members(g), key=str.lower) for g in groups or []]


def _groups_manifest(groups: list[list[str]]) -> list[dict[str, Any]]:
    return [{"vms": list(g)} for g in groups]


FIELDS: tuple[Field, ...] = (
    # live: read by live_rp_groups (protected item ids -> names); write/update: groups_body / merged_groups
    Field("groups", "groups", None, "properties.groups", "properties.groups", norm=norm_groups,
          to_manifest=_groups_manifest),
    # derived from groups[].before/after and the actions Azure holds (see the docstring)
    Field("actions", None, None, None, None),
    Field("actionDetails", None, None, None, None),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


# ---------------------------------------------------------------- live side


def live_rp_groups(live: Any, plan: dict[str, Any]) -> list[list[str]]:
    """Boot groups of a live recovery plan as lists of VM names (sorted within a group)."""
    out = []
    for g in props(plan).get("groups") or []:
        if str(g.get("groupType") or "").lower() != "boot":
            continue
        names = []
        for it in g.get("replicationProtectedItems") or []:
            pi = live.protected_items_by_id.get(norm_id(it.get("id") or ""))
            names.append((props(pi).get("friendlyName") if pi else None) or it.get("virtualMachineId") or it.get("id"))
        if names:
            out.append(sorted(names, key=str.lower))
    return out


def rp_group_label(groups: list[dict[str, Any]], index: int) -> str:
    """`Shutdown`, `Failover`, or `Boot[n]` (1-based position among the Boot groups)."""
    g = groups[index]
    gtype = str(g.get("groupType") or "")
    if gtype.lower() != "boot":
        return gtype
    n = sum(1 for x in groups[:index + 1] if str(x.get("groupType") or "").lower() == "boot")
    return f"Boot[{n}]"


def live_rp_actions(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every group action of a live recovery plan: `{part, name, type, body}` in Azure's order,
    `part` = `groups.<label>.<startGroupActions|endGroupActions>.<actionName>`."""
    groups = props(plan).get("groups") or []
    out = []
    for i in range(len(groups)):
        label = rp_group_label(groups, i)
        for key in ACTION_KEYS:
            for a in groups[i].get(key) or []:
                name = str(a.get("actionName") or "")
                typ = str((a.get("customDetails") or {}).get("instanceType") or "")
                out.append({"part": f"groups.{label}.{key}.{name}", "name": name, "type": typ, "body": a})
    return out


def action_attrs(actions: list[dict[str, Any]]) -> dict[str, Any]:
    """`actions` and `actionDetails` of the actions `live_rp_actions` lists."""
    return {"actions": [f"{a['part']} ({a['type']})" for a in actions],
            "actionDetails": {a["part"]: rpactions.summary(a["body"]) for a in actions}}


def live_attrs(live: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """A live plan's attrs; `live`: the LiveState (its protected items name the groups' VMs)."""
    attrs: dict[str, Any] = {**base.live_attrs(FIELDS, plan), "groups": norm_groups(live_rp_groups(live, plan))}
    actions = live_rp_actions(plan)
    if actions:  # group actions set in Azure (portal, SDK): kept by updates, removed only under prune
        attrs.update(action_attrs(actions))
    return attrs


# ---------------------------------------------------------------- desired side and requests


def groups_body(groups: list[list[tuple[str, str]]],
                declared: dict[int, dict[str, list[dict[str, Any]]]] | None = None) -> list[dict[str, Any]]:
    """groups of (protected item id, protected item name); `declared`: the manifest's group
    actions by Boot group index (kinds/rpactions.declared)."""
    declared = declared or {}
    return [{"groupType": "Boot", "replicationProtectedItems": [{"id": i, "virtualMachineId": n} for i, n in g],
             "startGroupActions": list((declared.get(k) or {}).get("startGroupActions") or []),
             "endGroupActions": list((declared.get(k) or {}).get("endGroupActions") or [])} for k, g in enumerate(groups)]


def merged_groups(groups: list[list[tuple[str, str]]], live_plan: dict[str, Any] | None, prune_actions: bool = False,
                  declared: dict[int, dict[str, list[dict[str, Any]]]] | None = None) -> list[dict[str, Any]]:
    """The groups an update sends. UpdateRecoveryPlanInput replaces every group, so the body
    carries the groups as Azure holds them with only the Boot groups' members changed: the
    actions the manifest declares (`declared`, by Boot group index) first, then every action set
    in Azure under another name (unmanaged: kept, the Shutdown and Failover groups' too), matched
    by position among the Boot groups. A Boot group beyond the manifest's that carries kept
    actions is kept, empty, with them. Under `prune: {recoveryPlanActions: true}` the undeclared
    actions are left out (removed)."""
    declared = declared or {}
    new = groups_body(groups, declared)
    if live_plan is None:
        return new
    names = {str(a.get("actionName") or "").lower() for d in declared.values() for acts in d.values() for a in acts}

    def kept(g: dict[str, Any], key: str) -> list[dict[str, Any]]:
        if prune_actions:
            return []
        return list(base.canonical([a for a in g.get(key) or [] if str(a.get("actionName") or "").lower() not in names]))

    out: list[dict[str, Any]] = []
    boot = 0
    for g in props(live_plan).get("groups") or []:
        if str(g.get("groupType") or "").lower() != "boot":
            out.append({"groupType": g.get("groupType"), "replicationProtectedItems": [],
                        **{k: kept(g, k) for k in ACTION_KEYS}})
            continue
        if boot < len(new):
            out.append({**new[boot], **{k: new[boot][k] + kept(g, k) for k in ACTION_KEYS}})
        else:
            acts = {k: kept(g, k) for k in ACTION_KEYS}
            if acts["startGroupActions"] or acts["endGroupActions"]:
                out.append({"groupType": "Boot", "replicationProtectedItems": [], **acts})
        boot += 1
    out.extend(new[boot:])
    return out


def desired_attrs(plan: Any, live_plan: dict[str, Any] | None, prune_actions: bool) -> dict[str, Any]:
    """A manifest plan's attrs. The actions are those an apply leaves: the declared ones, and those set in
    Azure (`live_plan`), kept unless `prune_actions`; compared only if either side has any."""
    attrs = base.desired_attrs(FIELDS, plan)
    live_actions = live_rp_actions(live_plan) if live_plan is not None else []
    after = {"properties": {"groups": merged_groups([[] for _ in plan.groups], live_plan, prune_actions,
                                                    rpactions.declared(plan))}}
    actions = live_rp_actions(after)
    if actions or live_actions:
        attrs.update(action_attrs(actions))
    return attrs


def create_input(primary_fabric_id: str, groups: list[list[tuple[str, str]]],
                 declared: dict[int, dict[str, list[dict[str, Any]]]] | None = None) -> dict[str, Any]:
    """CreateRecoveryPlanInput: `groups` as (protected item id, name) pairs, with the declared actions."""
    body = base.body(FIELDS, {"groups": groups_body(groups, declared)})
    return {"properties": {"primaryFabricId": primary_fabric_id, "recoveryFabricId": AZURE_FABRIC,
                           "failoverDeploymentModel": "ResourceManager", **body["properties"]}}


def update_input(groups: list[list[tuple[str, str]]], live_plan: dict[str, Any] | None, prune_actions: bool = False,
                 declared: dict[int, dict[str, list[dict[str, Any]]]] | None = None) -> dict[str, Any]:
    """UpdateRecoveryPlanInput: every group, read-modify-write of the actions (merged_groups)."""
    return base.body(FIELDS, {"groups": merged_groups(groups, live_plan, prune_actions, declared)}, update=True)


def export_entry(name: str, attrs: dict[str, Any], live_plan: dict[str, Any] | None) -> dict[str, Any]:
    """recoveryPlans[] entry: the groups, with the Boot groups' actions as `before` / `after`
    (rpactions.from_body). Actions of the Shutdown / Failover groups and of Boot groups without VMs have
    no manifest form, and an action the manifest cannot express is left out: they stay in Azure
    (unmanaged; the plan lists them)."""
    entry: dict[str, Any] = {"name": name, **base.export_entry(FIELDS, attrs)}
    groups: list[dict[str, Any]] = entry.get("groups") or []
    boot = [g for g in (props(live_plan).get("groups") or [] if live_plan else [])
            if str(g.get("groupType") or "").lower() == "boot" and g.get("replicationProtectedItems")]
    for i, g in enumerate(groups):
        if i < len(boot):
            for key, word in (("startGroupActions", "before"), ("endGroupActions", "after")):
                acts = [a for a in (rpactions.from_body(x) for x in boot[i].get(key) or []) if a is not None]
                if acts:
                    g[word] = acts
    entry["groups"] = groups
    return entry
