"""Fixtures of the fidelity suite: the shared `emulator` (tests/conftest.py) reset to
an estate, and the product's SDK clients."""

from __future__ import annotations

import pytest

from tests.fidelity.helpers import SUB, estate


@pytest.fixture
def clients(emulator):
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    yield c
    c.close()


@pytest.fixture
def sr(emulator, clients):
    """The quickstart estate (VMM server vmm01 registered, Azure side seeded)."""
    emulator.reset(estate=estate(), time_scale=1)
    emulator.advance(60)
    return clients.site_recovery()
