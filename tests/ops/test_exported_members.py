"""The public API of reconciler.ops is explicit and small (pinned)."""

import reconciler.ops as ops


def test_exported_members():
    assert ops.__all__ == sorted(ops.__all__)
    assert set(ops.__all__) == {
        "DrillReport", "ItemState", "Kit", "NotInManifestError", "Operation", "OperationNotAllowedError",
        "OperationResult", "OpsContext", "PlanState", "Proxy", "StatusReport", "Targets", "VmOutcome",
        "check_allowed", "confirm", "ensure_can_confirm", "export_manifest", "raise_for", "read_status",
        "render_drill", "run_drill", "run_operation", "select_targets", "write_kit",
    }
    for name in ops.__all__:
        assert getattr(ops, name) is not None
