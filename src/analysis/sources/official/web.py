"""HTTP downloads for ``workbook data fetch``, and the GENESIS web service (``data/tablefile``)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from analysis.sources.official.catalogue import GENESIS_REGIO_URL, Source
from analysis.sources.official.fetch_errors import FetchError, MissingInMirror

CHUNK = 1 << 20
USER_AGENT = "champions-workbook-fetch/0.1 (+https://www.regionalstatistik.de)"


def http_timeout() -> float:
    try:
        return float(os.environ.get("WORKBOOK_FETCH_TIMEOUT", "60"))
    except ValueError:
        return 60.0


def stream_response(response, target: Path, *, what: str) -> tuple[int, str]:
    """Copy a response body to ``target``; check completeness against Content-Length."""
    expected = response.headers.get("Content-Length")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(target, "wb") as out:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"download of {what} broke off after {size} bytes: {exc}") from None
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise FetchError(f"incomplete download of {what}: received {size} of {expected} bytes")
    return size, digest.hexdigest()


def open_url(request: urllib.request.Request, what: str):
    try:
        return urllib.request.urlopen(request, timeout=http_timeout())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise MissingInMirror(f"{what}: not found (HTTP 404)") from None
        raise FetchError(f"{what}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        host = urllib.parse.urlparse(request.full_url).netloc
        raise FetchError(
            f"cannot reach {host} ({reason}); without internet access use "
            "--mirror DIR_OR_URL or WORKBOOK_MIRROR"
        ) from None


def get_url(url: str, target: Path) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with open_url(request, url) as response:
        return stream_response(response, target, what=url)


# ------------------------------------------------------------------ GENESIS web service


def genesis_credentials() -> dict[str, str]:
    """Request headers with the GENESIS credentials from the environment.

    ``GENESIS_TOKEN`` (an API token, sent as the user name with an empty
    password) or ``GENESIS_USERNAME`` and ``GENESIS_PASSWORD``.

    Raises
    ------
    FetchError
        When neither is set.
    """
    token = os.environ.get("GENESIS_TOKEN", "").strip()
    user = os.environ.get("GENESIS_USERNAME", "").strip()
    password = os.environ.get("GENESIS_PASSWORD", "")
    if token:
        return {"username": token, "password": ""}
    if user and password:
        return {"username": user, "password": password}
    raise FetchError(
        "GENESIS credentials missing: set GENESIS_TOKEN, or GENESIS_USERNAME and "
        "GENESIS_PASSWORD (free registration at regionalstatistik.de), or fetch from a "
        "mirror with --mirror DIR_OR_URL"
    )


def genesis_table(entry: Source, target: Path) -> str:
    """Download a table via POST data/tablefile; return the request URL."""
    base = os.environ.get("GENESIS_URL", GENESIS_REGIO_URL).rstrip("/") + "/"
    url = base + "data/tablefile"
    headers = {
        **genesis_credentials(),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": USER_AGENT,
    }
    form = {"name": entry.product, "area": "all", "compress": "false", **entry.genesis}
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode("ascii"), headers=headers, method="POST"
    )
    raw = target.with_name(target.name + ".response")
    try:
        with open_url(request, url) as response:
            content_type = response.headers.get("Content-Type", "")
            stream_response(response, raw, what=f"GENESIS table {entry.product}")
        head = raw.read_bytes()[:4]
        if head.startswith(b"PK"):
            _unzip_single(raw, target, what=f"GENESIS table {entry.product}")
        elif "json" in content_type or head.lstrip().startswith(b"{"):
            _raise_genesis_status(raw, entry.product)
        else:
            os.replace(raw, target)
    except MissingInMirror as exc:
        raise FetchError(f"GENESIS web service: {exc}") from None
    finally:
        raw.unlink(missing_ok=True)
    return url


def _raise_genesis_status(raw: Path, table: str) -> None:
    try:
        body = json.loads(raw.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError:
        raise FetchError(
            f"GENESIS table {table}: unexpected answer (neither CSV nor ZIP)"
        ) from None
    status = body.get("Status", body) if isinstance(body, dict) else {}
    code = status.get("Code")
    content = status.get("Content", "")
    if code == 98:
        raise FetchError(
            f"GENESIS table {table} is too large for a direct download (status 98: {content}); "
            "GENESIS prepares it only as a background job, which this command does not run. "
            "Download it in the GENESIS web interface or use a mirror"
        )
    raise FetchError(f"GENESIS table {table}: the service answered status {code}: {content}")


def _unzip_single(archive: Path, target: Path, *, what: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise FetchError(f"{what}: expected one file in the ZIP, found {len(members)}")
            with zf.open(members[0]) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise FetchError(f"{what}: damaged ZIP ({exc})") from None
