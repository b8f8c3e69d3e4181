"""`asr drill --format html` and `asr status --format html`: one self-contained page each
(no external asset), parsed with html.parser: sections and the values in them. If
/usr/bin/chromium exists, both pages are also rendered headless to a non-blank PNG."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from html.parser import HTMLParser

from reconciler.cli.main import main
from reconciler.ops.drill import DrillReport, GroupResult, VmResult
from reconciler.ops.report_html import drill_html
from tests.ops.conftest import EXAMPLES

QS = os.path.join(EXAMPLES, "quickstart.yaml")


class Page(HTMLParser):
    """Sections by id with their text; every attribute value; tags seen."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.attrs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self._stack: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))
        if tag == "section":
            sid = dict(attrs).get("id") or ""
            self.sections[sid] = ""
            self._stack.append(sid)

    def handle_endtag(self, tag):
        if tag == "section" and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        for sid in self._stack:
            self.sections[sid] += data


def assert_self_contained(text: str, page: Page) -> None:
    assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    assert {"script", "link", "img", "iframe"}.isdisjoint(page.tags)
    for tag, k, v in page.attrs:
        assert not v.strip().lower().startswith(("http:", "https:", "//")), (tag, k, v)
    assert "url(" not in text and "@import" not in text
    assert "http://" not in text and "https://" not in text


def test_drill_html_page(protected, capsys, tmp_path):
    out = tmp_path / "drill.html"
    code = main(["drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json", "--rto", "1s", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, stdout + err
    rep = json.loads(stdout)
    text = out.read_text()
    page = Page(text)
    assert_self_contained(text, page)
    assert {"summary", "plan", "timeline", "rto", "recovery-points", "cleanup"} <= set(page.sections)
    s = page.sections
    assert "PASSED" in s["summary"] and "tier1" in text and "contoso-asr-vault" in s["summary"]
    assert rep["started_at"] in s["summary"] and rep["ended_at"] in s["summary"]
    import getpass

    assert f"{getpass.getuser()} on {socket.gethostname()}" in s["summary"]
    assert "object " in s["summary"]  # the Azure principal, from the token's claims
    for g in rep["groups"]:
        assert ", ".join(g["vms"]) in s["plan"]
    # jobs and their tasks, with times
    assert f"test failover: job {rep['failover_job'].rsplit('/', 1)[-1]}" in s["timeline"]
    assert "cleanup: job" in s["timeline"] and "Group 1: Boot" in s["timeline"]
    for v in rep["vms"]:
        assert f"Test failover: {v['vm']}" in s["timeline"] and f"Test failover cleanup: {v['vm']}" in s["timeline"]
    assert s["timeline"].count("Succeeded") >= 2 + 2 * len(rep["vms"])
    assert text.count('<div class="bar"><span class="task"') >= 2 * len(rep["vms"])  # bars placed in time
    # every group and VM is over an RTO of 1 s
    assert s["rto"].count("over RTO by") == 1 + len(rep["groups"]) + len(rep["vms"])
    for v in rep["vms"]:
        assert v["vm"] in s["recovery-points"] and v["recovery_point_time"] in s["recovery-points"]
    assert "succeeded" in s["cleanup"] and rep["cleanup_job"].rsplit("/", 1)[-1] in s["cleanup"]

    status = tmp_path / "status.html"
    assert main(["status", QS, "--format", "html"]) == 0
    status.write_text(capsys.readouterr().out)
    text = status.read_text()
    page = Page(text)
    assert_self_contained(text, page)
    assert {"summary", "vms", "registration", "problems"} <= set(page.sections)
    for vm in ("sql01", "app01", "app02", "web01"):
        assert vm in page.sections["vms"]
    assert "Protected" in page.sections["vms"] and "vmm01" in page.sections["registration"]
    assert re.search(r"\d+ s", page.sections["vms"])  # RPO values
    _screenshot_if_chromium(out, tmp_path / "drill.png")
    _screenshot_if_chromium(status, tmp_path / "status.png")


def test_rto_within_and_errors_rendered_escaped():
    rep = DrillReport(recovery_plan="tier<1>", vault="v", resource_group="rg", manifest="m.yaml", test_network="tn",
                      started_at="2026-01-01T00:00:00Z", ended_at="2026-01-01T00:30:00Z", outcome="failed",
                      recovery_time_seconds=600, cleanup_state="failed: boom",
                      groups=[GroupResult(1, ["a"], True, 300)], vms=[VmResult("a", 1, True, 300)],
                      errors=["<script>alert(1)</script>"])
    text = drill_html(rep, rto_seconds=1800, who={"user": "u", "host": "h", "principal": "p"})
    page = Page(text)
    assert_self_contained(text, page)
    assert "FAILED" in page.sections["summary"] and page.sections["rto"].count("within RTO") == 3
    assert "<script>" not in text and "&lt;script&gt;" in text and "tier&lt;1&gt;" in text
    assert "failed: boom" in page.sections["cleanup"] and "errors" in page.sections


def _screenshot_if_chromium(html_path, png_path) -> None:
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if not chromium:
        return
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1200,1600", f"--screenshot={png_path}", f"file://{html_path}"],
                       capture_output=True, text=True, timeout=120)
    assert png_path.exists(), r.stderr
    _assert_png_not_blank(png_path.read_bytes())


def _assert_png_not_blank(data: bytes) -> None:
    """Decode the PNG (8-bit RGB/RGBA, the five row filters) and check the page is not one colour."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, depth, ctype = 8, b"", 0, 0, 8, 2
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert depth == 8 and ctype in (2, 6), (depth, ctype)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours: set[bytes] = set()
    # filter 2 (Up, most rows of a page) is a byte-wise sum with the row above: done on the whole
    # row as one integer (low 7 bits of each byte added, the top bits by XOR: no carry crosses bytes)
    low7, top = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 2:
            x, u = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            line = bytearray((((x & low7) + (u & low7)) ^ ((x ^ u) & top)).to_bytes(stride, "big"))
        elif f != 0:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 1:
                    line[i] = (line[i] + a) & 0xFF
                elif f == 3:
                    line[i] = (line[i] + (a + b) // 2) & 0xFF
                elif f == 4:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if y % 8 == 0:
            colours.update(bytes(line[x:x + 3]) for x in range(0, stride, bpp * 4))
        prev = line
    assert len(colours) > 10, f"the screenshot is blank ({len(colours)} colours)"
