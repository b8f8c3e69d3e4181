"""Day-2 operations: status, the failover family, DR drills, the registration kit, export.

    ctx = OpsContext.load("examples/quickstart.yaml")
    read_status(ctx) -> StatusReport
    run_operation(ctx, Operation.TEST, select_targets(ctx.manifest, vms=["sql01"], recovery_plan=None, file=ctx.file), yes=True)
    run_drill(ctx, "tier1", yes=True) -> DrillReport      (render_drill(report, "markdown"))
    write_kit(ctx, "kit/") -> Kit
    export_manifest(clients, subscription, resource_group, vault) -> str

Modules: states (which operation is allowed in which state), inventory (vault-wide
paged reads), inputs (request bodies), jobs (following ASR jobs), failover, drill,
status, report (renderers), vaultcreds, export, context (manifest, clients, targets,
confirmation) (the failover family's CLI arguments are reconciler/cli/ops_common.py).
"""

from __future__ import annotations

from reconciler.ops.context import OpsContext, Targets, confirm, ensure_can_confirm, select_targets
from reconciler.ops.drill import DrillReport, run_drill
from reconciler.ops.export import export, export_manifest
from reconciler.ops.failover import OperationResult, VmOutcome, raise_for, run_operation
from reconciler.ops.inventory import read_inventory
from reconciler.ops.jobcontrol import ACTIONS as JOB_ACTIONS
from reconciler.ops.jobcontrol import control as control_job
from reconciler.ops.jobcontrol import list_vault_jobs, waiting_for, waiting_line
from reconciler.ops.jobcontrol import render_text as render_jobs_text
from reconciler.ops.jobcontrol import row as job_row
from reconciler.ops.recoverypoints import list_points as list_recovery_points
from reconciler.ops.recoverypoints import render_text as render_recovery_points_text
from reconciler.ops.recoverypoints import run_change_point
from reconciler.ops.repair import run_repair
from reconciler.ops.report import operation_json, operation_text, render_drill
from reconciler.ops.report_html import drill_html, job_timeline, run_by, status_html
from reconciler.ops.states import (
    ItemState,
    NotInManifestError,
    Operation,
    OperationNotAllowedError,
    PlanState,
    check_allowed,
)
from reconciler.ops.status import StatusReport, parse_duration, read_status
from reconciler.ops.status import render_text as render_status_text
from reconciler.ops.vaultcreds import Kit, Proxy, write_kit

__all__ = [
    "DrillReport",
    "ItemState",
    "JOB_ACTIONS",
    "Kit",
    "NotInManifestError",
    "Operation",
    "OperationNotAllowedError",
    "OperationResult",
    "OpsContext",
    "PlanState",
    "Proxy",
    "StatusReport",
    "Targets",
    "VmOutcome",
    "check_allowed",
    "confirm",
    "control_job",
    "drill_html",
    "ensure_can_confirm",
    "export",
    "export_manifest",
    "job_row",
    "job_timeline",
    "list_recovery_points",
    "list_vault_jobs",
    "operation_json",
    "operation_text",
    "parse_duration",
    "raise_for",
    "read_inventory",
    "read_status",
    "render_drill",
    "render_jobs_text",
    "render_recovery_points_text",
    "render_status_text",
    "run_by",
    "run_change_point",
    "run_drill",
    "run_operation",
    "run_repair",
    "select_targets",
    "status_html",
    "waiting_for",
    "waiting_line",
    "write_kit",
]
