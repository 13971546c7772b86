"""The reports in a real browser: headless Chromium via the DevTools protocol.

Builds the demo plan (``config/reports.yml``) itself, once in German and once in
English, into temporary reports folders, then opens ``index.html`` and every report
it links, and fails on console errors, uncaught exceptions, images that did not load,
links to files that do not exist, any request that leaves the machine (the reports
must work offline), a page whose ``lang`` is not the report's language, an image
without a text alternative, and any serious or critical accessibility violation
found by axe-core (injected into the page). Screenshots of every page are saved
(under the temporary reports folder, and copied to ``$WORKBOOK_SCREENSHOTS`` when set).

Runs whenever Debian's ``chromium`` is installed (``.ci/run`` installs it and
axe-core) and skips, saying so, only when the binary is absent.
"""

from __future__ import annotations

import base64
import html
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
import yaml

from analysis.report.index import publish_pages
from analysis.report.plan import Job, load_plan
from analysis.report.runner import ReportStore, kreis_codes, run_jobs

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LOCAL_SCHEMES = {"file", "data", "about", "blob", "chrome-error"}
#: axe-core from the npm registry (``.ci/run``: ``npm install --prefix ~/.cache/workbook/npm``).
AXE_VERSION = "4.14.1"
AXE_PLACES = (
    os.environ.get("WORKBOOK_AXE", ""),
    str(Path.home() / ".cache/workbook/npm/node_modules/axe-core/axe.min.js"),
    str(ROOT / "node_modules/axe-core/axe.min.js"),
)
#: axe-core impact levels that fail a page.
AXE_FAILING = {"serious", "critical"}
#: The alt text the report template writes for an image that came without one.
MISSING_ALT = {"Abbildung ohne Textalternative", "Figure without a text alternative"}


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
            "Array.from(document.images).map(i => ({src: i.src.slice(0, 300),"
            " ok: i.complete && i.naturalWidth > 0, lazy: i.loading === 'lazy',"
            " alt: i.getAttribute('alt')}))"
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
        # Lazy images below the fold load only when scrolled to: their files must exist.
        problems["images"] = [
            i["src"][:80]
            for i in images
            if not i["ok"]
            and not (i["lazy"] and i["src"].startswith("file:") and _file_of(i["src"]).is_file())
        ]
        problems["n_images"] = len(images)
        problems["alts"] = [i["alt"] for i in images]
        problems["lang"] = self.evaluate("document.documentElement.lang")
        return problems

    def axe(self, source: str) -> list[dict]:
        """Run axe-core on the open page; its violations (id, impact, help, where)."""
        self.call("Runtime.evaluate", expression=source)
        result = self.call(
            "Runtime.evaluate",
            expression="axe.run(document, {resultTypes: ['violations']}).then(r =>"
            " r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.length, where: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))",
            awaitPromise=True,
            returnByValue=True,
            timeout=120_000,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"axe-core failed: {result['exceptionDetails']}")
        return result["result"]["value"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)
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


def _axe_source() -> str:
    for place in AXE_PLACES:
        if place and Path(place).is_file():
            return Path(place).read_text(encoding="utf-8")
    pytest.fail(
        f"axe-core not found ({', '.join(p for p in AXE_PLACES if p)}); install it with "
        f"`npm install --prefix ~/.cache/workbook/npm axe-core@{AXE_VERSION}` (.ci/run does)"
    )


@pytest.fixture(scope="module")
def axe_source() -> str:
    return _axe_source()


def _serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v.get("impact") in AXE_FAILING]


def test_axe_finds_what_readers_would_stumble_over(browser, axe_source, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>x</title></head><body>"
        "<main><img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
        "<p style='color:#eee;background:#fff'>hardly legible</p></main></body></html>"
    )
    browser.open(page.as_uri())
    found = {v["id"] for v in _serious(browser.axe(axe_source))}
    assert {"image-alt", "color-contrast", "html-has-lang"} <= found


@pytest.fixture(scope="module")
def demo_data():
    """The demo dataset the reports read: the project's, else one generated for the test."""
    if (ROOT / "data" / "demo" / "TRUTH.json").is_file() or os.environ.get("WORKBOOK_DEMO_DIR"):
        yield
        return
    from analysis.demo import write_demo

    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"workbook-browser-demo-{os.getpid()}"
    os.environ["WORKBOOK_DEMO_DIR"] = str(write_demo(folder, seed=1))
    try:
        yield
    finally:
        os.environ.pop("WORKBOOK_DEMO_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=["de", "en"])
def demo_site(request, demo_data, tmp_path_factory):
    """The demo plan built in one language into a fresh reports folder (cards, thumbnails)."""
    language = request.param
    root = tmp_path_factory.mktemp(f"reports-{language}")
    plan = yaml.safe_load((ROOT / "config" / "reports.yml").read_text(encoding="utf-8"))
    plan.update(dataset="demo", language=language)
    plan_path = root.parent / f"plan-{language}.yml"
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    jobs = load_plan(plan_path, dataset="demo", kreis_codes=kreis_codes)
    with open(os.devnull, "w") as quiet:
        counts = run_jobs(jobs, n_jobs=2, store=ReportStore(root), stream=quiet)
    state = json.loads((root / "index.json").read_text(encoding="utf-8"))
    errors = {k: e["runs"][-1].get("error") for k, e in state["entries"].items()
              if e.get("status") == "failed"}  # fmt: skip
    assert counts["failed"] == 0, f"demo reports failed to build: {errors}"
    publish_pages(root)
    return language, root


def _save(shot: Path) -> None:
    target = os.environ.get("WORKBOOK_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)


def _check_page(browser, axe_source, url: str, language: str, shot: Path) -> dict:
    page = _file_of(url)
    problems = browser.open(url)
    _assert_clean(page, problems)
    assert problems["lang"] == language, f"{page}: <html lang> is {problems['lang']!r}"
    if page.name != "index.html":  # the index's thumbnails are decorative (alt="")
        bad = [a for a in problems["alts"] if not a or a.strip() in MISSING_ALT]
        assert bad == [], f"{page}: {len(bad)} image(s) without a text alternative"
    violations = _serious(browser.axe(axe_source))
    assert violations == [], f"{page}: axe-core: {json.dumps(violations, indent=1)[:3000]}"
    browser.screenshot(shot, full_page=page.name == "index.html")
    _save(shot)
    return problems


def _check_report(browser, axe_source, url: str, language: str, shot: Path) -> None:
    seen = _check_page(browser, axe_source, url, language, shot)
    assert seen["n_images"] >= 1, f"{url}: a report without a figure"
    order = browser.evaluate(
        "(() => { const s = document.querySelector('section.wb-summary');"
        " const h = document.querySelector('.wb-body h2:not(section.wb-summary h2)');"
        " return s ? (h ? !!(s.compareDocumentPosition(h) & 4) : true) : null; })()"
    )
    assert order is True, f"{url}: the summary must open the report, before the first section"


def test_demo_reports_in_chromium_with_axe(browser, axe_source, demo_site):
    language, root = demo_site
    index = root / "index.html"
    shots = root / "screenshots"
    plan = yaml.safe_load((ROOT / "config" / "reports.yml").read_text(encoding="utf-8"))
    notebooks = {r["name"]: ROOT / r["notebook"] for r in plan["reports"]}  # every one bilingual

    problems = _check_page(browser, axe_source, index.as_uri(), language,
                           shots / f"{language}-index.png")  # fmt: skip
    missing = [u for u in problems["links"] if u.startswith("file:") and not _file_of(u).exists()]
    assert missing == [], f"index.html links to missing files: {missing[:5]}"
    pages = sorted({u for u in problems["links"] if u.endswith("/report.html")})
    assert len(pages) == len(notebooks), "the index links every report of the plan"

    figures = browser.evaluate("document.querySelectorAll('dl.wb-figures').length")
    thumbs = browser.evaluate("document.querySelectorAll('.wb-thumb img').length")
    assert figures == thumbs == len(pages), "each report: headline figures and a thumbnail"
    front = html.unescape(index.read_text(encoding="utf-8"))

    for url in pages:
        report = _file_of(url).relative_to(root).parts[0]
        _check_report(browser, axe_source, url, language, shots / f"{language}-{report}.png")
        title = browser.evaluate("document.title")
        assert title in front, f"the index shows the title of {report}: {title!r}"
    assert len(list(shots.glob("*.png"))) == len(pages) + 1


def test_index_grid_is_searchable_and_filterable_in_chromium(browser, axe_source, tmp_path):
    from analysis.report.index import render_index

    entries = {}
    for i in range(24):
        status = "failed" if i % 8 == 0 else "ok"
        entries[f"profile/demo_{i:02d}"] = {
            "report": "profile", "slug": f"demo_{i:02d}", "status": status,
            "notebook": "notebooks/01_region_profile.ipynb",
            "parameters": {"region": f"03{i:03d}", "dataset": "demo", "language": "de"},
            "last_good": None if status == "failed" else f"r{i}",
            "runs": [{"run_id": f"r{i}", "status": status, "started_at": "2026-12-03T10:00:00Z",
                      "figures": {"rank": i + 1}, "files": ["run.log"], "error": "boom"}],
        }  # fmt: skip
    for entry in entries.values():  # the links of the page must lead somewhere
        folder = tmp_path / "profile" / entry["slug"]
        (folder / "runs" / entry["runs"][0]["run_id"]).mkdir(parents=True)
        for name in ("report.html", f"runs/{entry['runs'][0]['run_id']}/run.log",
                     f"runs/{entry['runs'][0]['run_id']}/manifest.json",
                     f"runs/{entry['runs'][0]['run_id']}/executed.ipynb"):  # fmt: skip
            (folder / name).write_text("x")
    page = tmp_path / "index.html"
    page.write_text(render_index({"entries": entries}), encoding="utf-8")

    problems = browser.open(page.as_uri())
    _assert_clean(page, problems)
    assert _serious(browser.axe(axe_source)) == []

    def shown(search: str, status: str = "") -> tuple[int, str]:
        return tuple(browser.evaluate(
            "(() => { const s = document.getElementById('wb-search');"
            f" s.value = {json.dumps(search)}; s.dispatchEvent(new Event('input'));"
            " const t = document.getElementById('wb-status');"
            f" t.value = {json.dumps(status)}; t.dispatchEvent(new Event('change'));"
            " return [document.querySelectorAll('li.wb-card:not([hidden])').length,"
            " document.getElementById('wb-count').textContent]; })()"
        ))  # fmt: skip

    assert shown("") == (24, "24 von 24 angezeigt")
    assert shown("03007")[0] == 1
    assert shown("", "failed")[0] == 3
    assert shown("03016", "failed")[0] == 1 and shown("03017", "failed")[0] == 0
    assert browser.evaluate("document.querySelector('section.wb-group').hidden") is True
