"""Say what a command waits for while a block runs (no silent waits).

    with heartbeat(lambda: f"reading the live state of vault {name}", every=settings.progress_interval,
                   say=lambda line: print(line, file=sys.stderr)):
        live = read_live_state(clients, manifest)

Every `every` seconds, until the block ends: `still waiting for Azure: <what> (<elapsed>, <requests> requests)`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["heartbeat"]


@contextlib.contextmanager
def heartbeat(what: Callable[[], str], *, every: float, say: Callable[[str], None],
              counter: Any = None) -> Iterator[None]:
    from reconciler.settings import format_seconds

    stop = threading.Event()
    t0 = time.monotonic()

    def run() -> None:
        while not stop.wait(every):
            n = getattr(counter, "requests", None)
            extra = f", {n} requests answered" if n is not None else ""
            try:
                say(f"still waiting for Azure: {what()} ({format_seconds(time.monotonic() - t0)}{extra})")
            except Exception:
                pass

    thread = threading.Thread(target=run, name="asr-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)
