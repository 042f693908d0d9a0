"""The HTML report: the JSON's figures and nothing else, self-contained (no loads, no script),
escaped, and a real page in headless Chromium on a phone-sized window: drawn, not blank, no
console message."""

from __future__ import annotations

import copy
import json
import re
import shutil
import struct
import subprocess
import zlib
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from ledger.render.html import render
from ledger.reports import report
from tests.conftest import DATA
from tests.test_cli import ok, run

UPWORK = DATA / "upwork" / "classic.csv"
PAYPAL = DATA / "paypal" / "activity-en.csv"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)


@pytest.fixture
def june(ledger, options):
    """The month test_report checks by hand, with Pakistan's benchmarks."""
    ledger.root.mkdir(parents=True)
    ledger.rates_path.write_text("date,from,to,rate\n2024-06-03,EUR,USD,1.0850\n")
    ledger.config_path.write_text('country = "PK"\n')
    ledger.import_files([UPWORK, PAYPAL], options)
    return ledger


@pytest.fixture
def data(june):
    return report.build(june, month="2024-06")


class Figures(HTMLParser):
    """Every element with data-field: (field, data-value, its text, tag, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.open: list[dict] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "br" and self.open:
            self.open[-1]["text"] += "\n"
        if tag in ("meta", "br", "line"):
            return
        self.open.append({"tag": tag, "attrs": attributes, "text": ""})

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in ("meta", "br", "line") or not self.open:
            return
        item = self.open.pop()
        if "data-field" in item["attrs"]:
            self.found.append(item)
        if self.open:
            self.open[-1]["text"] += "" if item["tag"] == "title" else item["text"]

    def handle_data(self, text):
        if self.open:
            self.open[-1]["text"] += text


def figures(page: str) -> Figures:
    parser = Figures()
    parser.feed(page)
    return parser


def at(data: dict, path: str) -> str:
    """The JSON's value at a data-field path (`by_client.0.net`), as the attribute holds it."""
    value = data
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return "" if value is None else str(value)


def test_every_figure_is_the_jsons(data):
    page = render(data)
    found = figures(page).found
    assert len(found) > 40
    for item in found:
        field, value = item["attrs"]["data-field"], item["attrs"]["data-value"]
        expected = at(data, field)
        assert value == expected, field
        text = item["text"].split("\n")[0].strip()  # what a person reads: 1,678.00
        if item["tag"] != "rect" and expected and not field.endswith(("fee_rate", "ratio")):
            shown = re.match(r"-?[\d,]+(\.\d+)?", text)
            assert shown and shown.group(0).replace(",", "") == expected, (field, text)
        elif field.endswith("ratio") and expected:
            assert text == f"{Decimal(expected):.2f}×"


def test_every_json_figure_is_on_the_page(data):
    fields = {item["attrs"]["data-field"] for item in figures(render(data)).found}
    assert {f"totals.{key}" for key in data["totals"]} <= fields
    for section in ("by_platform", "by_client"):
        for i in range(len(data[section])):
            assert {f"{section}.{i}.{k}" for k in ("gross", "fees", "net", "hours")} <= fields
    for i in range(len(data["benchmarks"])):
        assert {f"benchmarks.{i}.monthly", f"benchmarks.{i}.ratio"} <= fields
    assert {f"rates.{i}.rate" for i in range(len(data["rates"]))} <= fields


def test_charts_are_drawn_from_the_same_figures(data):
    page = render(data)
    bars = [i for i in figures(page).found if i["tag"] == "rect"]
    waterfall = {b["attrs"]["data-field"]: b["attrs"]["data-value"] for b in bars
                 if b["attrs"]["data-field"].startswith("totals.")}
    nonzero = {f"totals.{k}" for k in ("gross", "platform_fees", "payment_fees", "fx_cost",
                                       "expenses", "other", "net")}
    assert set(waterfall) == nonzero
    assert all(waterfall[f] == at(data, f) for f in waterfall)
    benchmark_bars = [b for b in bars if b["attrs"]["data-field"].startswith("benchmarks.")]
    assert len(benchmark_bars) == sum(1 for b in data["benchmarks"] if b["monthly"])
    for bar in benchmark_bars:
        i = int(bar["attrs"]["data-field"].split(".")[1])
        assert bar["attrs"]["data-ratio"] == data["benchmarks"][i]["ratio"]
    # one month: your bar is the month's net
    assert 'data-field="totals.net" data-value="1549.07"><title>You: net this month' in page
    assert "Month by month" not in page


def test_longer_periods_chart_each_month_against_the_benchmark(june):
    data = report.build(june, start="2024-05-01", end="2024-06-30")
    assert [m["month"] for m in data["months"]] == ["2024-05", "2024-06"]
    page = render(data)
    found = figures(page).found
    assert all(i["attrs"]["data-value"] == at(data, i["attrs"]["data-field"]) for i in found)
    fields = {i["attrs"]["data-field"] for i in found}
    assert {f"months.{i}.{k}" for i in range(2) for k in ("gross", "net", "benchmark_ratio",
                                                          "net_change")} <= fields
    bars = [i for i in found if i["tag"] == "rect" and i["attrs"]["data-field"].startswith(
        "months.")]
    assert [b["attrs"]["data-ratio"] for b in bars] == [m["benchmark_ratio"]
                                                        for m in data["months"]]
    chosen = next(b for b in data["benchmarks"] if b["name"] == data["months"][0]["benchmark"])
    assert re.search(r'<line class="mark" [^>]+/>\s*<text class="value" [^>]+>'
                     + chosen["name"].replace("_", " ") + " "
                     + re.escape(f"{Decimal(chosen['monthly']):,}"), page)


def test_bar_lengths_follow_the_figures(data):
    page = render(data)
    widths = {m["field"]: float(m["w"]) for m in re.finditer(
        r'<rect class="\w+" x="[\d.]+" y="[\d.]+" width="(?P<w>[\d.]+)" height="14" rx="2" '
        r'data-field="(?P<field>totals\.\w+)"', page)}
    gross, fees = Decimal(data["totals"]["gross"]), Decimal(data["totals"]["platform_fees"])
    assert abs(widths["totals.platform_fees"] / widths["totals.gross"]
               - float(fees / gross)) < 0.01


def test_self_contained_no_loads_no_script(data):
    page = render(data)
    lowered = page.lower()
    assert "<script" not in lowered and "<link" not in lowered and "<iframe" not in lowered
    assert "src=" not in lowered and "url(" not in lowered and "@import" not in lowered
    tags = figures(page).tags
    for tag, attrs in tags:
        for name, value in attrs.items():
            if value and re.match(r"\s*(https?:)?//", value):
                assert (tag, name) == ("a", "href"), (tag, name, value)  # a link, not a load
            assert not (name.startswith("on")), (tag, name)
    meta = {a.get("name") or a.get("http-equiv"): a.get("content") for t, a in tags
            if t == "meta"}
    assert meta["viewport"] == "width=device-width, initial-scale=1"
    assert "default-src 'none'" in meta["Content-Security-Policy"]


def test_text_is_escaped(data):
    hostile = copy.deepcopy(data)
    hostile["by_client"][0]["client"] = '<script>alert("x")</script> & "Co"'
    hostile["warnings"] = ["<img src=x onerror=alert(1)>"]
    hostile["benchmarks"][0]["url"] = "javascript:alert(1)"
    hostile["benchmarks"][0]["source"] = '"><b>bold</b>'
    page = render(hostile)
    assert "<script>" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot;" in page
    assert 'href="javascript' not in page


def test_losses_and_no_benchmarks_still_render(data):
    bad = copy.deepcopy(data)
    bad["benchmarks"] = []
    bad["totals"].update(gross="0.00", net="-30.00", net_hourly=None)
    page = render(bad)
    assert "benchmarks" not in re.findall(r'<h2 id="(\w+)"', page)
    assert 'class="big negative" data-field="totals.net" data-value="-30.00"' in page
    assert 'class="axis"' in page  # zero marked when the chart goes below it


def test_cli_writes_the_page_with_the_json_figures(tmp_path):
    ok(run("--ledger", "l", "import", UPWORK, PAYPAL, cwd=tmp_path))
    result = ok(run("--ledger", "l", "report", "--month", "2024-06", "--format", "html",
                    "-o", "report.html", cwd=tmp_path))
    assert "wrote report.html" in result.stderr
    page = (tmp_path / "report.html").read_text("utf-8")
    data = json.loads(ok(run("--ledger", "l", "report", "--month", "2024-06", "--format",
                             "json", cwd=tmp_path)).stdout)
    found = figures(page).found
    assert found and all(i["attrs"]["data-value"] == at(data, i["attrs"]["data-field"])
                         for i in found)
    assert ok(run("report", "--help", cwd=tmp_path)).stdout.count("--format html") == 1


# --- a real browser ------------------------------------------------------------------------------

def read_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of pixel bytes, bytes per pixel) of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):  # undo the PNG filter of the row
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                           ) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def colours(rows: list[bytes], bpp: int) -> dict[tuple[int, ...], int]:
    counts: dict[tuple[int, ...], int] = {}
    for row in rows:
        for i in range(0, len(row), bpp):
            pixel = tuple(row[i:i + 3])
            counts[pixel] = counts.get(pixel, 0) + 1
    return counts


@pytest.mark.skipif(CHROMIUM is None,
                    reason="no chromium on PATH (apt-get install chromium; .ci/run does)")
def test_chromium_draws_the_page_on_a_phone_without_console_messages(data, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render(data), encoding="utf-8")
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", f"--screenshot={shot}", "--window-size=390,844", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines()
               if ":CONSOLE" in line or "Uncaught" in line]
    assert console == []  # no script error, no blocked load, no CSP violation

    width, height, rows, bpp = read_png(shot.read_bytes())
    assert (width, height) == (390, 844)
    counts = colours(rows, bpp)
    background, most = max(counts.items(), key=lambda kv: kv[1])
    assert background == (255, 255, 255)
    assert most < 0.95 * width * height and len(counts) > 50  # text and charts, not blank
    # the waterfall's bars in their colours: gross (#2563eb), cost (#d1242f), net (#116329)
    for colour in ((0x25, 0x63, 0xEB), (0xD1, 0x24, 0x2F), (0x11, 0x63, 0x29)):
        assert counts.get(colour, 0) > 200, colour
