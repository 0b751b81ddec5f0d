"""The HTML report every publish writes: complete, offline, and rendered without errors
in a real browser (headless Chromium, installed by scripts/install_chromium.sh)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from audience import report_html
from audience.export import CURRENT, MANIFEST, REPORT
from audience.report_html import CHART_ATTRIBUTE, TABLES, write_report
from conftest import Site

CHROMIUM = shutil.which("chromium")
# Where the screenshot goes: $AUDIENCE_SCREENSHOT_DIR (the README's picture is made with
# it pointing at docs/), else the test's own folder.
SCREENSHOT_ENV = "AUDIENCE_SCREENSHOT_DIR"
CHARTS = {"sizes", "over_time", "lifecycle_flow", "overlap", "churn_risk", "lift", "rejects"}
# What a rendered plotly chart draws: bars and lines (trace groups), Sankey nodes, heatmaps.
MARKS = re.compile(r'class="(?:trace[ "]|sankey-node|hm")')


def need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") or os.environ.get("AUDIENCE_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here: run scripts/install_chromium.sh")
        pytest.skip("chromium is not installed (scripts/install_chromium.sh installs it)")
    return CHROMIUM


def browse(page: Path, folder: Path, screenshot: Path | None = None) -> tuple[str, list[str]]:
    """Open ``page`` in headless Chromium with the network off: its DOM after scripts
    ran, and every console message (errors and uncaught exceptions among them)."""
    chromium = need_chromium()
    common = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={folder / 'profile'}", "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=15000", "--window-size=1280,2400",
    ]  # fmt: skip
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    if screenshot is not None:
        subprocess.run(
            [*common, f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=120, check=True
        )
    return dom.stdout, console


def rendered_marks(dom: str) -> dict[str, int]:
    """Per chart container of the report, how many drawn marks it holds."""
    starts = [(match.start(), match.group(1)) for match in re.finditer(rf'{CHART_ATTRIBUTE}="([^"]+)"', dom)]
    marks = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(dom)
        marks[name] = len(MARKS.findall(dom[start:end]))
    return marks


def test_every_publish_writes_the_report_beside_its_exports(published_site: Site) -> None:
    current = published_site.exports / CURRENT
    manifest = json.loads((current / MANIFEST).read_text())
    page = (current / manifest["report"]).read_text()
    assert manifest["report"] == REPORT
    [(build_id, as_of)] = published_site.rows(
        "select build_id, as_of_date from marts.publish_log order by published_at desc limit 1"
    )
    assert build_id == manifest["build_id"] and build_id in page and str(as_of) in page
    # One file, no network: no script or style is fetched from anywhere.
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="?(?:https?:)?//', page)
    assert {entry["table"] for entry in manifest["freshness"]} >= {"shop_orders", "email_events"}


def test_the_report_renders_every_chart_in_a_browser_without_console_errors(
    published_site: Site, tmp_path: Path
) -> None:
    page = published_site.exports / CURRENT / REPORT
    folder = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path)
    screenshot = folder / "report.png"
    dom, console = browse(page, tmp_path, screenshot)
    assert console == []
    marks = rendered_marks(dom)
    assert set(marks) == CHARTS
    assert all(count > 0 for count in marks.values()), marks
    assert screenshot.stat().st_size > 10_000


def test_the_browser_check_catches_an_empty_chart_and_a_script_error(published_site: Site, tmp_path: Path) -> None:
    """The two checks above can fail: an empty chart and a console error are seen."""
    page = tmp_path / "broken.html"
    with duckdb.connect(str(published_site.published), read_only=True) as con:
        write_report(con, page)
    text = page.read_text()
    # Empty the sizes chart's data, and add a script that throws.
    text = re.sub(r'(Plotly\.newPlot\(\s*"[^"]+",\s*)\[.*?\],', r"\1[],", text, count=1, flags=re.S)
    text = text.replace("</body>", "<script>window.notAFunction();</script></body>")
    page.write_text(text)
    dom, console = browse(page, tmp_path)
    assert any("notAFunction" in line for line in console)
    marks = rendered_marks(dom)
    assert marks["sizes"] == 0 and marks["over_time"] > 0


def test_the_report_reads_exactly_its_declared_tables() -> None:
    """``report_html.TABLES`` is what a PostgreSQL publish copies for the report: the
    report's queries name no other mart, and every declared one is read."""
    source = Path(report_html.__file__).read_text()
    read = set(re.findall(r"\bmarts\.(\w+)", source)) | set(re.findall(r'_has_table\(con, "(\w+)"\)', source))
    assert read == set(TABLES)
