"""The reports in a real browser: headless Chromium via the DevTools protocol.

Opens ``index.html`` and every report it links, and fails on console errors, uncaught
exceptions, images that did not load, links to files that do not exist, and any
request that leaves the machine (the reports must work offline). Saves a screenshot
of the index. Runs whenever Debian's ``chromium`` is installed (``.ci/run`` installs
it) and skips, saying so, only when the binary is absent.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from analysis.report.plan import Job
from analysis.report.runner import ReportStore, run_jobs

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LOCAL_SCHEMES = {"file", "data", "about", "blob", "chrome-error"}


def _chromium() -> str | None:
    for name in (os.environ.get("WORKBOOK_CHROMIUM"), "/usr/bin/chromium", "chromium",
                 "chromium-browser", "google-chrome"):  # fmt: skip
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Chromium:
    """A headless Chromium and one page, driven over the DevTools protocol."""

    def __init__(self, binary: str, profile: Path) -> None:
        import websocket

        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                "--window-size=1280,900",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )
        self._id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        # Nothing may leave the machine even if a page asked for it; the request is
        # still seen (requestWillBeSent) and fails the test.
        self.call("Network.setBlockedURLs", urls=["http://*", "https://*", "ws://*", "wss://*"])

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"no {method} within {timeout} s")

    def open(self, url: str) -> dict:
        """Load a page; return what went wrong on it."""
        self.events = []
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.2)  # late console messages
        self.call("Runtime.evaluate", expression="1")  # drain pending events
        images = self.evaluate(
            "Array.from(document.images).map(i => ({src: i.src.slice(0, 80),"
            " ok: i.complete && i.naturalWidth > 0}))"
        )
        links = self.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        problems = {"console": [], "external": [], "failed": [], "images": [], "links": links}
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                problems["console"].append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                problems["console"].append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                problems["console"].append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                request_url = params["request"]["url"]
                if urlparse(request_url).scheme not in LOCAL_SCHEMES:
                    problems["external"].append(request_url)
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                problems["failed"].append(params.get("errorText", "?"))
        problems["images"] = [i["src"] for i in images if not i["ok"]]
        problems["n_images"] = len(images)
        return problems

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        with _suppress():
            self.ws.close()
        with _suppress():
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            with _suppress():
                os.killpg(self.process.pid, signal.SIGKILL)


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = _chromium()
    if binary is None:
        pytest.skip("headless Chromium not found (install Debian's `chromium`; .ci/run does)")
    chromium = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def _file_of(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


def check_site(browser: Chromium, index: Path, screenshot: Path, max_per_report: int | None):
    """Open the index and the reports it links; return what was checked."""
    problems = browser.open(index.as_uri())
    _assert_clean(index, problems)
    browser.screenshot(screenshot)
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000, "the screenshot shows the index"
    missing = [u for u in problems["links"] if u.startswith("file:") and not _file_of(u).exists()]
    assert missing == [], f"index.html links to missing files: {missing[:5]}"
    pages = [u for u in problems["links"] if u.endswith(".html")]
    per_report: dict[str, int] = {}
    visited = []
    for url in pages:
        report = _file_of(url).relative_to(index.parent).parts[0]
        per_report[report] = per_report.get(report, 0) + 1
        if max_per_report is not None and per_report[report] > max_per_report:
            continue
        page_problems = browser.open(url)
        _assert_clean(_file_of(url), page_problems)
        visited.append((url, page_problems["n_images"]))
    return visited


def _assert_clean(page: Path, problems: dict) -> None:
    assert problems["external"] == [], f"{page} requests outside the machine"
    assert problems["console"] == [], f"{page} logs errors"
    assert problems["failed"] == [], f"{page} has resources that failed to load"
    assert problems["images"] == [], f"{page} has broken images"


def _tiny_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell(
        "x: int = 3  # a number\n"
        'dataset: str = "demo"  # demo or official\n'
        "fail: bool = False  # fail on purpose\n"
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Browser check\n\nA chart, a table and a key figure."),
        params,
        nbformat.v4.new_code_cell(
            "import analysis\nanalysis.report_setup(seed=0, dataset=dataset)"
        ),
        nbformat.v4.new_markdown_cell("## A chart"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2, x]);"),
        nbformat.v4.new_code_cell("import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': [x, 4]})"),
        nbformat.v4.new_code_cell(
            "assert not fail, 'failed on purpose'\nanalysis.record('x_squared', x * x)"
        ),
        nbformat.v4.new_code_cell("analysis.show_sources()"),
    ]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_built_reports_open_cleanly_offline_in_chromium(browser, tmp_path):
    # Arrange: a good report with a figure and a table, and a failed one (partial page).
    notebook = _tiny_notebook(tmp_path / "tiny.ipynb")
    reports = tmp_path / "reports"
    jobs = [
        Job("tiny", notebook, {"x": 4, "dataset": "demo", "fail": False}, "good"),
        Job("broken", notebook, {"x": 2, "dataset": "demo", "fail": True}, "bad"),
    ]
    counts = run_jobs(jobs, n_jobs=2, store=ReportStore(reports), stream=open(os.devnull, "w"))
    assert counts["ok"] == 1 and counts["failed"] == 1

    # Act
    visited = check_site(browser, reports / "index.html", reports / "screenshots" / "index.png",
                         max_per_report=None)  # fmt: skip

    # Assert: both pages were opened, and the good one shows its chart.
    names = {Path(urlparse(u).path).name: n for u, n in visited}
    assert set(names) == {"report.html", "partial.html"}
    assert names["report.html"] >= 1


def test_checker_notices_external_requests_broken_images_and_errors(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<link rel='stylesheet' href='https://cdn.example.org/x.css'></head><body>"
        "<img src='missing.png'><script>console.error('boom')</script></body></html>"
    )
    problems = browser.open(page.as_uri())
    assert problems["external"] == ["https://cdn.example.org/x.css"]
    assert problems["images"] and any("boom" in c for c in problems["console"])
    with pytest.raises(AssertionError):
        _assert_clean(page, problems)


def test_project_reports_open_cleanly_in_chromium(browser):
    reports = Path(os.environ.get("WORKBOOK_REPORTS_DIR") or ROOT / "reports")
    index = reports / "index.html"
    if not index.is_file():
        pytest.skip(f"no built reports at {index} (run `make report` first)")
    # One page per report name keeps a 400-profile grid from taking minutes; every
    # link of the index is still checked to exist.
    visited = check_site(browser, index, reports / "screenshots" / "index.png", max_per_report=2)
    assert visited or "no reports yet" in index.read_text()
