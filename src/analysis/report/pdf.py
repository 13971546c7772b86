"""Print a report page to PDF for mail distribution, with headless Chromium.

The page's print stylesheet (``templates/workbook/page.css``) lays it out on A4 with the
management summary on page 1 and ``page / pages`` numbers in the bottom margin (CSS
``@page`` margin boxes; Chromium's own header and footer are switched off). Chromium
runs with a fresh profile, no network services and no sandbox (it runs as root in
containers); nothing the page would fetch from outside exists (the page is offline).

Where no Chromium is installed, :func:`write_pdf` says so once, clearly, and returns
``False``; the HTML report stands as it is.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

#: Binaries tried in order (``WORKBOOK_CHROMIUM`` first when set).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds one page may take to print.
PRINT_TIMEOUT_S = 120
#: The flags of every headless run: no first-run dialogs, no background traffic.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)
NO_ENGINE = (
    "PDF not written: no headless Chromium found (install Debian's `chromium`, or set "
    "WORKBOOK_CHROMIUM to its path); the HTML report is complete without it"
)


def find_chromium() -> str | None:
    """The path of a Chromium binary (``WORKBOOK_CHROMIUM``, then the usual names), or ``None``."""
    for name in (os.environ.get("WORKBOOK_CHROMIUM"), *CHROMIUM_NAMES):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def write_pdf(html_path: str | Path, pdf_path: str | Path) -> bool:
    """Print an HTML report to PDF with headless Chromium.

    Parameters
    ----------
    html_path : str or Path
        The report page (``report.html``).
    pdf_path : str or Path
        Where the PDF goes (``report.pdf`` beside the page); written atomically.

    Returns
    -------
    bool
        ``True`` when the PDF was written; ``False`` when no Chromium is installed or
        printing failed (logged as a warning naming the page and the reason).
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    binary = find_chromium()
    if binary is None:
        log.warning(NO_ENGINE)
        return False
    partial = pdf_path.with_name(f".{pdf_path.name}.partial")
    with tempfile.TemporaryDirectory(prefix="workbook-chromium-") as profile:
        command = [
            binary,
            *HEADLESS_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={partial}",
            html_path.as_uri(),
        ]
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=PRINT_TIMEOUT_S,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            log.warning(
                "PDF of %s not written: Chromium took over %d s", html_path, PRINT_TIMEOUT_S
            )
            partial.unlink(missing_ok=True)
            return False
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        log.warning(
            "PDF of %s not written: Chromium exited %d %s", html_path, done.returncode, tail[0]
        )
        partial.unlink(missing_ok=True)
        return False
    os.replace(partial, pdf_path)
    return True
