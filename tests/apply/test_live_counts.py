"""The counters shown live during an apply equal the final summary: same statuses,
same words, each address counted once under its latest status."""

from __future__ import annotations

import io
import json
from pathlib import Path

from reconciler.apply.progress import LiveCounts, RichProgress
from reconciler.apply.summary import counts_line
from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
MANIFEST = str(REPO / "examples" / "hyperv-site.yaml")
ESTATE = str(REPO / "examples" / "estates" / "hyperv-site.yaml")


def test_live_counts_of_a_real_apply_end_on_the_summary(emu, capsys):
    emu.reset(estate=ESTATE, time_scale=600)
    # hosts register only once their site exists: round 1 logs manual steps that are done by the end
    assert asr(["apply", MANIFEST, "--vm", "dc02", "--yes", "--log-format", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    summary = next(e for e in events if e["event"] == "summary")
    assert any(e["event"] == "manual" for e in events)  # a manual step was logged ...
    assert summary["counts"].get("manual", 0) == 0  # ... and is not one at the end
    live = LiveCounts()
    before_result = None
    for e in events:
        if e["event"] == "result":
            before_result = dict(live.counts())
        live.update(e)
    assert live.counts() == summary["counts"]
    assert live.line() == counts_line(summary["counts"])
    # already before the closing event, nothing is shown as manual or skipped that the summary does not count
    for status in ("manual", "skipped", "failed", "succeeded"):
        assert before_result.get(status, 0) == summary["counts"].get(status, 0), status


def test_rich_progress_title_uses_the_summary_words_and_counts_an_address_once():
    p = RichProgress(io.StringIO())
    p({"event": "skipped", "address": "protected_vm.sql01", "reason": "waits for manual step vmm_server.vmm01"})
    p({"event": "manual", "address": "vmm_server.vmm01", "reason": "register it"})
    assert p.counts.line() == "0 succeeded, 0 failed, 1 skipped, 1 manual, 0 still running in Azure, 0 unchanged"
    p({"event": "outcome", "address": "vmm_server.vmm01", "status": "unchanged", "reason": "registered"})
    p({"event": "done", "address": "protected_vm.sql01", "action": "create", "seconds": 1})
    p({"event": "result", "statuses": {"protected_vm.sql01": "succeeded", "vmm_server.vmm01": "unchanged",
                                       "vault.v": "unchanged"}})
    p.close()
    assert p.counts.line() == "1 succeeded, 0 failed, 0 skipped, 0 manual, 0 still running in Azure, 2 unchanged"
