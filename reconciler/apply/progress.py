"""Progress output of `asr apply`: the executor emits events (plain dicts), a
renderer shows them.

- `TextProgress`: one timestamped line per event (pipelines without a terminal).
- `JsonProgress`: one JSON object per line (`--log-format json`).
- `RichProgress`: a live table of actions and jobs with percentages (a terminal).

`make_progress(fmt, stream)` picks one: "auto" means rich on a terminal, text
otherwise. Events never carry secrets: addresses, operation keys, job names,
states and Azure's error codes and messages only.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
import threading
from typing import Any, TextIO


def _ts() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Progress:
    def __call__(self, event: dict[str, Any]) -> None:
        self.handle(event)

    def handle(self, event: dict[str, Any]) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    def pause(self) -> None:
        """Stop drawing while apply shows a plan and asks a question."""

    def resume(self) -> None:
        pass


def describe(e: dict[str, Any]) -> str | None:
    kind = e.get("event")
    a = e.get("address", "")
    if kind == "start":
        return f"{a}: {e.get('action')} started"
    if kind == "sent":
        st = f" -> {e['status']}" if e.get("status") else ""
        return f"{a}: {e.get('operation')}{st}"
    if kind == "job":
        pct = f" {e['percent']}%" if e.get("percent") is not None else ""
        tasks = e.get("tasks") or []
        cur = next((t["name"] for t in tasks if (t.get("state") or "").lower() in ("inprogress", "started")), "")
        cur = f" ({cur})" if cur else ""
        return f"{a}: job {e.get('job')} {e.get('scenario') or ''} {e.get('state')}{pct}{cur}".replace("  ", " ")
    if kind == "await":
        return f"{a}: already in progress in Azure, awaiting job {e.get('job')} ({e.get('state')})"
    if kind == "done":
        return f"{a}: done ({e.get('seconds')} s)"
    if kind == "failed":
        return f"{a}: FAILED: {e.get('code') or 'error'}: {e.get('message')}"
    if kind == "skipped":
        return f"{a}: skipped: {e.get('reason')}"
    if kind == "manual":
        return f"{a}: manual step needed: {e.get('reason')}"
    if kind == "interrupted":
        return f"{a}: {e.get('reason')}"
    if kind == "interrupt":
        n = len(e.get("in_flight") or [])
        return (f"interrupted: no new work is started; {n} action(s) in flight finish their current call, "
                "Azure jobs already started keep running")
    if kind == "note":
        return f"{a}: {e.get('message')}"
    if kind == "outcome":
        return f"{a}: {e.get('status')} ({e.get('reason')})"
    if kind == "lock":
        return f"locked vault {e.get('vault')} for this apply (lease until {e.get('until')})"
    if kind == "lock_wait":
        return (f"vault {e.get('vault')} is locked by {e.get('holder')} (lock ID {e.get('lock_id')}, lease until "
                f"{e.get('until')}); waiting up to {e.get('timeout')} (--lock-timeout)")
    if kind == "lock_takeover":
        return f"took over an expired or abandoned lock of vault {e.get('vault')} held by {e.get('previous')}"
    if kind == "lock_lost":
        return f"lost the lock of vault {e.get('vault')}; stopping"
    if kind in ("phase", "waiting"):
        return str(e.get("message"))
    if kind == "protection":
        return (f"protection: {e.get('protected')}/{e.get('total')} protected"
                + (f"; waiting for {', '.join(e.get('waiting') or [])}" if e.get("waiting") else ""))
    return None


_STATUS_OF = {"done": "succeeded", "failed": "failed", "skipped": "skipped", "manual": "manual",
              "interrupted": "in_progress"}


class LiveCounts:
    """The latest status of each address as the events tell it, counted with the statuses and
    words of the final summary (summary.counts_line). An address counts once, under its latest
    status (skipped in one round, done in the next: succeeded); the runner's closing "result"
    event carries every final status, so the last counts shown are the summary's."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}

    def update(self, e: dict[str, Any]) -> None:
        kind = e.get("event")
        a = e.get("address")
        if kind == "result":
            self.status = dict(e.get("statuses") or {})
        elif kind == "outcome" and a:
            self.status[a] = str(e.get("status"))
        elif kind in _STATUS_OF and a:
            self.status[a] = _STATUS_OF[kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.status.values():
            out[s] = out.get(s, 0) + 1
        return out

    def line(self) -> str:
        from reconciler.apply.summary import counts_line

        return counts_line(self.counts())


class TextProgress(Progress):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def handle(self, event: dict[str, Any]) -> None:
        line = describe(event)
        if line is None:
            return
        with self._lock:
            print(f"{_ts()} {line}", file=self.stream, flush=True)


class JsonProgress(Progress):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def handle(self, event: dict[str, Any]) -> None:
        with self._lock:
            print(json.dumps({"time": _ts(), **event}, default=str, sort_keys=True), file=self.stream, flush=True)


class RichProgress(Progress):
    """Live table: one row per action in flight or finished recently, plus
    important lines (failures, skips) printed above it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream or sys.stdout)
        self.rows: dict[str, dict[str, Any]] = {}
        self.counts = LiveCounts()
        self._lock = threading.Lock()
        self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=True)
        self.live.start()

    def _table(self) -> Any:
        from rich.table import Table

        t = Table(show_header=True, header_style="bold", expand=False, title=self.counts.line())
        t.add_column("action")
        t.add_column("state")
        t.add_column("job")
        t.add_column("%", justify="right")
        for addr, r in list(self.rows.items())[-20:]:
            t.add_row(addr, r.get("state", ""), r.get("job", ""), "" if r.get("percent") is None else str(r["percent"]))
        return t

    def handle(self, e: dict[str, Any]) -> None:
        kind = e.get("event")
        a = e.get("address")
        with self._lock:
            self.counts.update(e)
            if kind == "start" and a:
                self.rows[a] = {"state": e.get("action", "")}
            elif kind == "job" and a:
                self.rows.setdefault(a, {}).update(state=e.get("state", ""), job=e.get("scenario") or e.get("job", ""),
                                                   percent=e.get("percent"))
            elif kind == "done" and a:
                self.rows.pop(a, None)
                self.console.print(f"[green]✓[/green] {describe(e)}")
            elif kind == "failed" and a:
                self.rows.pop(a, None)
                self.console.print(f"[red]✗[/red] {describe(e)}")
            elif kind in ("skipped", "manual"):
                self.console.print(f"[yellow]-[/yellow] {describe(e)}")
            else:
                line = describe(e)
                if line and kind not in ("sent",):
                    self.console.print(line)
            self.live.update(self._table())

    def close(self) -> None:
        self.live.stop()

    def pause(self) -> None:
        self.live.stop()

    def resume(self) -> None:
        self.live.start()


def make_progress(fmt: str = "auto", stream: TextIO | None = None) -> Progress:
    stream = stream or sys.stdout
    if fmt == "json":
        return JsonProgress(stream)
    if fmt == "text":
        return TextProgress(stream)
    if hasattr(stream, "isatty") and stream.isatty():
        try:
            return RichProgress(stream)
        except Exception:
            return TextProgress(stream)
    return TextProgress(stream)
