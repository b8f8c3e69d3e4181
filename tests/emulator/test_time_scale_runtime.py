"""`POST /_emulator/time-scale` (`set_time_scale`): simulated time runs at the new
scale from then on, without a reset: resources, what is scheduled and the present stay."""

from __future__ import annotations

import time

import pytest

from reconciler.emulator.testing import InProcessEmulator


def test_time_scale_changes_at_run_time_keeping_the_state():
    emu = InProcessEmulator(time_scale=600)
    state = emu.app.state
    fired: list[float] = []
    before = state.now()
    state.schedule(before + 3600, lambda: fired.append(state.now()))  # an hour of simulated time from now
    answer = emu.set_time_scale(1)
    assert answer["timeScale"] == 1.0 and emu.stats()["timeScale"] == 1.0
    assert emu.app.state is state  # no reset
    assert state.clock.real_seconds(60) == 60.0
    assert before <= state.now() < before + 3600  # the present goes on from where it was
    time.sleep(0.05)
    assert state.run_due() == 0 and not fired  # at scale 1 the hour is still ahead
    emu.set_time_scale(1e6)
    time.sleep(0.01)
    assert state.run_due() == 1 and fired[0] >= before + 3600  # at a million times as fast it has passed
    with pytest.raises(RuntimeError, match="timeScale must be > 0"):
        emu.set_time_scale(0)
    assert state.clock.scale == 1e6
