"""`asr recovery-points` and `asr failover ... --recovery-point` on the emulator: a failover to
the latest app-consistent point sends that point and reports the point used
(docs/fidelity.md J-006..J-008)."""

from __future__ import annotations

import json
import os

import pytest

from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import asr, protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")


@pytest.fixture
def protected(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    emulator.advance(2 * 24 * 3600)  # two days of recovery points
    return emulator


def points(capsys, vm):
    code, out, err = asr(capsys, "recovery-points", QS, "--vm", vm, "--format", "json")
    assert code == 0, err
    return json.loads(out)["recoveryPoints"]


def test_recovery_points_listed_newest_first(protected, capsys):
    rows = points(capsys, "sql01")
    assert len(rows) >= 24
    assert [r["time"] for r in rows] == sorted((r["time"] for r in rows), reverse=True)
    assert {r["type"] for r in rows} == {"CrashConsistent", "AppConsistent"}  # policy: app-consistent every 4 h
    code, out, err = asr(capsys, "recovery-points", QS, "--vm", "sql01")
    assert code == 0 and rows[0]["name"] in out and "newest first" in out
    code, out, err = asr(capsys, "recovery-points", QS, "--vm", "nope")
    assert code == 1 and "nope" in err


def test_failover_to_latest_app_consistent_point_reports_it(protected, capsys):
    app = next(r for r in points(capsys, "web01") if r["type"] == "AppConsistent")
    code, out, err = asr(capsys, "failover", "unplanned", QS, "--vm", "web01", "--recovery-point",
                         "latest-app-consistent", "--yes", "--format", "json")
    assert code == 0, out + err
    assert f"web01: recovery point {app['name']} (AppConsistent" in err
    assert f"web01: recovered to recovery point {app['name']} (AppConsistent" in err
    res = json.loads(out)
    o = next(o for o in res["vms"] if o["vm"] == "web01")
    assert o["recovery_point_id"].lower() == app["id"].lower()


def test_failover_to_a_point_by_name_and_refusals(protected, capsys):
    rows = points(capsys, "app01")
    code, out, err = asr(capsys, "failover", "planned", QS, "--recovery-plan", "tier1", "--recovery-point", rows[0]["name"],
                         "--yes")
    assert code == 1 and "a recovery plan fails over to one of" in err
    code, out, err = asr(capsys, "failover", "unplanned", QS, "--vm", "sql01", "--recovery-point", "not-a-point", "--yes")
    assert code == 1 and "not a recovery point of sql01" in err
    code, out, err = asr(capsys, "failover", "commit", QS, "--vm", "sql01", "--recovery-point", "latest", "--yes")
    assert code == 1 and "--recovery-point goes with" in err
    code, out, err = asr(capsys, "failover", "unplanned", QS, "--vm", "app01", "--recovery-point", rows[3]["name"], "--yes")
    assert code == 0, out + err
    assert f"recovered to recovery point {rows[3]['name']}" in out


def test_change_point_after_failover_before_commit(protected, capsys):
    rows = points(capsys, "sql01")
    # not failed over yet: refused before anything is sent
    code, out, err = asr(capsys, "failover", "change-point", QS, "--vm", "sql01", "--recovery-point", "latest", "--yes")
    assert code == 1 and "only be changed after a failover and before its commit" in err
    code, out, err = asr(capsys, "failover", "unplanned", QS, "--vm", "sql01", "--yes")
    assert code == 0, out + err
    code, out, err = asr(capsys, "failover", "change-point", QS, "--vm", "sql01", "--yes")
    assert code == 1 and "needs --recovery-point" in err
    code, out, err = asr(capsys, "failover", "change-point", QS, "--vm", "sql01", "--recovery-point", "not-a-point",
                         "--yes")
    assert code == 1 and "not a recovery point of sql01" in err
    code, out, err = asr(capsys, "failover", "change-point", QS, "--vm", "sql01", "--recovery-point", rows[5]["name"],
                         "--yes", "--format", "json")
    assert code == 0, out + err
    res = json.loads(out)["results"][0]
    assert res["ok"] and res["recovery_point_id"].lower() == rows[5]["id"].lower()
    app = next(r for r in rows if r["type"] == "AppConsistent")
    code, out, err = asr(capsys, "failover", "change-point", QS, "--vm", "sql01", "--recovery-point",
                         "latest-app-consistent", "--yes")
    assert code == 0, out + err
    assert f"sql01: recovery point changed to {app['name']} (AppConsistent" in out
    code, out, err = asr(capsys, "failover", "commit", QS, "--vm", "sql01", "--yes")
    assert code == 0, out + err
    code, out, err = asr(capsys, "failover", "change-point", QS, "--vm", "sql01", "--recovery-point", "latest", "--yes")
    assert code == 1 and "only be changed after a failover and before its commit" in err
