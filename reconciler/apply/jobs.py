"""The applier's job tracker: the shared follower (`reconciler.azure.jobs`) with the
applier's policy, reading on a background thread.

Every Site Recovery write starts a replication job; the tracker reads the vault's job
list once per interval for every operation in flight (never a poll per operation) and
matches jobs back by name, `activityId` (our request id), or target object (see
`reconciler.azure.jobs` for the rules). A change whose write ASR accepted gives its
worker back and resumes when `Tracked.event` is set: job over, deadline passed, no job
for too long, or the job list unreadable (`Tracked.error`: Azure's translated error).

Policy: Suspended is not an end (the applier keeps waiting); among target-object
fallback candidates the newest wins (the job of a retried write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.azure.jobs import APPLY, JobFollower, Tracked
from reconciler.live.jobs import FAILED, SUCCEEDED, JobView, iso

__all__ = ["APPLY", "FAILED", "SUCCEEDED", "JobTracker", "JobView", "Tracked", "iso"]


class JobTracker(JobFollower):
    def __init__(self, clients: Any, resource_group: str, vault: str, *, settings: Any = None,
                 on_update: Callable[[Tracked, JobView], None] | None = None,
                 on_waiting: Callable[[str], None] | None = None, deadline: float | None = None,
                 **overrides: Any) -> None:
        """`overrides` (floor=, ceiling=, give_up_after=) replace single settings, for tests."""
        from reconciler.settings import Settings

        settings = settings or getattr(clients, "config", None) or Settings.from_env()
        names = {"floor": "job_poll_min", "ceiling": "job_poll_max", "give_up_after": "job_match_timeout"}
        changes = {names[k]: float(v) for k, v in overrides.items() if v is not None}
        if changes:
            settings = settings.replace(**changes)
        super().__init__(clients, resource_group, vault, policy=APPLY, settings=settings, on_update=on_update,
                         on_waiting=on_waiting, deadline=deadline)

    def follow(self, label: str, **kwargs: Any) -> Tracked:  # type: ignore[override]
        t = super().follow(label, **kwargs)
        self.start()
        return t

    def wait(self, t: Tracked, timeout: float | None = None,  # type: ignore[override]
             should_stop: Callable[[], bool] | None = None) -> bool:
        """Block until the tracked job's wait ended (True) or stop/timeout (False)."""
        import time

        end = None if timeout is None else time.monotonic() + timeout
        while not t.event.wait(0.2):
            if should_stop is not None and should_stop():
                return False
            if end is not None and time.monotonic() > end:
                return False
        return True
