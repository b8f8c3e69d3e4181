"""Job reads stay bounded where Azure ignores the `startTime` filter: paging stops after
a page whose jobs all started before the window. The recorded job list is not in time
order (ReplicationJobs_List.json; docs/fidelity.md L-024), so a single old job on a page
does not stop it."""

from __future__ import annotations

from reconciler.live.reader import _raw_pages, page_is_older_than
from reconciler.ops.inventory import list_jobs

SINCE = "2026-12-01T00:00:00Z"


def job(name: str, start: str | None) -> dict:
    props = {"state": "Succeeded", "scenarioName": "TestFailover"}
    if start is not None:
        props["startTime"] = start
    return {"name": name, "id": f"/x/replicationJobs/{name}", "properties": props}


# pages as a service that ignores the filter would answer them: mixed order, then old ones forever
PAGES = [
    [job("new1", "2026-12-02T10:00:00Z"), job("old0", "2026-11-01T00:00:00Z"), job("new2", "2026-12-01T08:00:00Z")],
    [job("old1", "2026-11-30T23:00:00Z"), job("queued", None)],  # a NotStarted job has no start time
    [job("old2", "2026-10-01T00:00:00Z"), job("old3", "2026-09-01T00:00:00Z")],
] + [[job(f"ancient{i}", "2020-01-01T00:00:00Z")] for i in range(50)]


class _Resp:
    def __init__(self, body: dict) -> None:
        self.status_code = 200
        self._body = body

    def json(self) -> dict:
        return self._body


class FakeSend:
    """send_request over PAGES, counting the requests."""

    def __init__(self) -> None:
        self.calls = 0

    def send_request(self, req):
        from urllib.parse import parse_qs, urlparse

        i = int((parse_qs(urlparse(str(req.url)).query).get("page") or ["0"])[0])
        self.calls += 1
        nxt = f"https://x/jobs?page={i + 1}" if i + 1 < len(PAGES) else None
        return _Resp({"value": PAGES[i], "nextLink": nxt})


def test_page_is_older_than():
    assert page_is_older_than(PAGES[2], SINCE)
    assert not page_is_older_than(PAGES[0], SINCE)  # one old job among new ones
    assert not page_is_older_than(PAGES[1], SINCE)  # a job without a start time is not old
    assert not page_is_older_than([], SINCE)


def test_raw_pages_stop_at_an_old_page():
    from azure.core.rest import HttpRequest

    client = FakeSend()
    rows = _raw_pages(client, HttpRequest("GET", "https://x/jobs?page=0&api-version=2025-08-01"),
                      stop=lambda page: page_is_older_than(page, SINCE))
    assert client.calls == 3  # not 53
    assert [r["name"] for r in rows][:5] == ["new1", "old0", "new2", "old1", "queued"]


class FakePager:
    def __init__(self, counter: list[int]) -> None:
        self.counter = counter

    def by_page(self):
        for p in PAGES:
            self.counter[0] += 1
            yield iter(p)


class FakeClients:
    def __init__(self) -> None:
        self.pages = [0]

    def site_recovery(self):
        clients = self

        class Jobs:
            def list(self, rg, vault, filter=None):
                assert filter == f"startTime ge '{SINCE}'"
                return FakePager(clients.pages)

        class SR:
            replication_jobs = Jobs()

        return SR()


def test_list_jobs_is_bounded_and_drops_old_jobs():
    c = FakeClients()
    rows = list_jobs(c, "rg", "vault", SINCE)
    assert c.pages[0] == 3
    assert [r["name"] for r in rows] == ["new1", "new2", "queued"]
