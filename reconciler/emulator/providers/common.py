"""Shared helpers of the providers: regions, tags, names."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.framework import ArmError

# Public Azure regions (ARM short names).
REGIONS = {
    "eastus", "eastus2", "southcentralus", "westus2", "westus3", "australiaeast", "southeastasia", "northeurope",
    "swedencentral", "uksouth", "westeurope", "centralus", "southafricanorth", "centralindia", "eastasia",
    "japaneast", "koreacentral", "canadacentral", "francecentral", "germanywestcentral", "italynorth",
    "norwayeast", "polandcentral", "spaincentral", "switzerlandnorth", "mexicocentral", "uaenorth",
    "brazilsouth", "israelcentral", "qatarcentral", "northcentralus", "westus", "japanwest", "centraluseuap",
    "eastus2euap", "westcentralus", "southafricawest", "australiacentral", "australiacentral2",
    "australiasoutheast", "jioindiawest", "koreasouth", "southindia", "westindia", "canadaeast",
    "francesouth", "germanynorth", "norwaywest", "switzerlandwest", "ukwest", "uaecentral", "brazilsoutheast",
    "newzealandnorth", "belgiumcentral", "chilecentral", "indonesiacentral", "malaysiawest", "austriaeast",
}


def normalize_location(value: Any) -> str:
    return str(value).replace(" ", "").lower()


def check_location(value: Any, *, code: str = "LocationNotAvailableForResourceType", what: str = "resource") -> str:
    """ARM short name of a region, or 400."""
    if not isinstance(value, str) or not value.strip():
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    loc = normalize_location(value)
    if loc not in REGIONS and loc != "global":
        raise ArmError(
            400,
            code,
            f"The provided location '{value}' is not available for {what}. List of available regions is '{','.join(sorted(REGIONS))}'.",
        )
    return loc


def check_tags(tags: Any) -> dict[str, str] | None:
    if tags is None:
        return None
    if not isinstance(tags, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'tags' must be an object of strings.", target="tags")
    if len(tags) > 50:
        raise ArmError(400, "InvalidTagCount", "The number of tags exceeds the maximum of 50.")
    out: dict[str, str] = {}
    for k, v in tags.items():
        if len(k) > 512 or any(c in k for c in "<>%&\\?/"):
            raise ArmError(400, "InvalidTagNameCharacters", f"The tag name '{k}' has invalid characters '<,>,%,&,\\,?,/' or control characters.")
        if v is not None and not isinstance(v, str):
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: tag '{k}' must have a string value.", target="tags")
        if v is not None and len(v) > 256:
            raise ArmError(400, "InvalidTagValueLength", f"The tag value for '{k}' exceeds 256 characters.")
        out[k] = v if v is not None else ""
    return out


def location_conflict(name: str, resource_group: str, existing: str, wanted: str) -> ArmError:
    return ArmError(
        409,
        "InvalidResourceLocation",
        f"The resource '{name}' already exists in location '{existing}' in resource group '{resource_group}'. "
        f"A resource with the same name cannot be created in location '{wanted}'. Please select a new resource name.",
    )


def canonical_rg(state, subscription_id: str, resource_group: str) -> str:
    """The resource group's name as created (ids keep that spelling)."""
    rg = state.get(f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}")
    return rg["name"] if rg else resource_group
