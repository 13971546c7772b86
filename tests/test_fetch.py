"""Tests for analysis.sources.official.fetch (workbook data fetch) and the source catalogue."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import os
import shutil
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import mirror_or_skip

from analysis.errors import ParameterError
from analysis.sources.official import catalogue as cat
from analysis.sources.official import fetch as fetch_module
from analysis.sources.official.fetch import (
    DATALOG_END,
    DATALOG_START,
    fetch,
    fetch_cli,
    read_datalog,
    update_datalog,
)

PLZ_FIXTURE = Path(__file__).parent / "fixtures" / "territory" / "plz_small.csv"


_mirror = mirror_or_skip


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("WORKBOOK_MIRROR", "GENESIS_TOKEN", "GENESIS_USERNAME", "GENESIS_PASSWORD",
                 "GENESIS_URL", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("WORKBOOK_FETCH_TIMEOUT", "5")
    # Nothing may fall back to the real project tree.
    monkeypatch.setenv("WORKBOOK_ROOT", str(tmp_path / "project"))


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return tmp_path / "project" / "data" / "raw"


@pytest.fixture
def small_mirror(tmp_path: Path) -> Path:
    """A mirror with the PLZ file (synthetic) and the change list."""
    root = tmp_path / "mirror"
    (root / "plz_osm").mkdir(parents=True)
    shutil.copyfile(PLZ_FIXTURE, root / "plz_osm" / "zuordnung_plz_ort.csv")
    (root / "bbsr_kreis_crosswalk").mkdir()
    (root / "bbsr_kreis_crosswalk" / "kreis_changes_2020_to_2021_handmade.csv").write_text(
        "kreis_from,kreis_to,effective_date,w_area,w_pop\n16056,16063,2021-07-01,1,1\n",
        encoding="utf-8",
    )
    return root


class _Quiet:
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@contextmanager
def serve(handler) -> Iterator[str]:
    """Run ``handler`` on 127.0.0.1 (ephemeral port) in a thread; yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _static(root: Path):
    class Handler(_Quiet, SimpleHTTPRequestHandler):
        pass

    return functools.partial(Handler, directory=str(root))


def _leftovers(folder: Path) -> list[str]:
    """Files other than the wanted ones (temporary parts) under ``folder``."""
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name.startswith("."))


# ------------------------------------------------------------------ catalogue


def test_catalogue_covers_the_required_sources() -> None:
    ids = {entry.id for entry in cat.catalogue()}
    products = {entry.product for entry in cat.catalogue()}

    for table in ("12411-01-01-4", "13111-01-03-4", "21311-01-01-4-B", "11111-02-01-4",
                  "52411-02-01-4", "52311-01-04-4", "73111-01-01-4", "21111-02-06-4"):  # fmt: skip
        assert table in products
    assert {"gv-isys", "bbsr-kreis-crosswalk", "bkg-vg2500-krs", "plz-osm"} <= ids
    assert len(ids) == len(cat.catalogue())
    for entry in cat.catalogue():
        assert entry.folder and entry.files and entry.licence and entry.reference_date
        assert entry.kind in ("genesis", "http", "zip", "mirror_only")
        assert entry.kind == "mirror_only" or entry.url.startswith("https://")


def test_source_lookups(tmp_path: Path) -> None:
    subset = "21311-01-01-4-B_subset_insgesamt_de_flat.csv"
    (tmp_path / "genesis_ffcsv").mkdir()
    (tmp_path / "genesis_ffcsv" / subset).write_text("x")

    assert cat.source_for_file(f"/x/{subset}").id == "genesis-21311-01-01-4-B"
    assert cat.source_for_file("VG2500_KRS.dbf").credit.startswith("© GeoBasis-DE / BKG")
    assert cat.source_for_file("unknown.csv") is None
    assert cat.local_path("genesis-21311-01-01-4-B", tmp_path).name == subset
    assert cat.local_path("plz-osm", tmp_path) is None
    with pytest.raises(KeyError, match="known"):
        cat.source("nope")


# ------------------------------------------------------------------ data log


def test_datalog_keeps_the_prose_and_replaces_rows_per_file(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Data\n\nProse before.\n\n{DATALOG_START}\n{DATALOG_END}\n\nProse after.\n"
    )
    row = dict(source="s", file="official/a/x.csv", publisher="P | Q", licence="L",
               fetched_utc="2025-01-01T00:00:00Z", sha256="a" * 64, origin="o")  # fmt: skip

    assert update_datalog(readme, [row])
    assert update_datalog(readme, [{**row, "sha256": "b" * 64}])
    assert not update_datalog(readme, [{**row, "sha256": "b" * 64}])  # no change, no write

    text = readme.read_text()
    assert text.startswith("# Data\n\nProse before.\n\n" + DATALOG_START)
    assert text.endswith(DATALOG_END + "\n\nProse after.\n")
    rows = read_datalog(readme)
    assert len(rows) == 1
    assert rows[0]["publisher"] == "P | Q" and rows[0]["sha256"] == "b" * 64


def test_datalog_markers_are_created_when_missing(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Only prose\n")
    row = {col: "v" for col in fetch_module.DATALOG_COLUMNS} | {"file": "official/f"}

    update_datalog(readme, [row])

    text = readme.read_text()
    assert text.startswith("# Only prose\n")
    assert text.count(DATALOG_START) == 1 and text.count(DATALOG_END) == 1
    assert read_datalog(readme)[0]["file"] == "official/f"


# ------------------------------------------------------------------ local mirror


def test_fetch_from_a_mirror_directory(small_mirror: Path, raw: Path) -> None:
    results = fetch(only=["plz-osm", "bbsr-kreis-changes-2021"], mirror=small_mirror, raw_root=raw)

    assert [r.status for r in results] == ["fetched", "fetched"]
    target = raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv"
    assert target.read_bytes() == PLZ_FIXTURE.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o666 & ~fetch_module.file_umask()
    log = {row["file"]: row for row in read_datalog(raw / "README.md")}
    entry = log["official/plz_osm/zuordnung_plz_ort.csv"]
    assert entry["sha256"] == _sha(target)
    assert entry["source"] == "plz-osm" and entry["licence"].startswith("ODbL")
    assert entry["origin"].startswith("mirror ") and entry["fetched_utc"].endswith("Z")
    assert _leftovers(raw) == []


def test_rerun_is_idempotent(small_mirror: Path, raw: Path) -> None:
    fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)
    target = raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv"
    mtime = target.stat().st_mtime_ns
    readme = (raw / "README.md").read_bytes()

    results = fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)

    assert results[0].status == "unchanged"
    assert target.stat().st_mtime_ns == mtime
    assert (raw / "README.md").read_bytes() == readme


def test_changed_mirror_file_replaces_the_old_one(small_mirror: Path, raw: Path) -> None:
    fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)
    mirror_file = small_mirror / "plz_osm" / "zuordnung_plz_ort.csv"
    mirror_file.write_text(PLZ_FIXTURE.read_text() + "111,3159016,Nordstadt,37077,,Niedersachsen\n")

    results = fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)

    assert results[0].status == "fetched"
    assert (
        raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv"
    ).read_bytes() == mirror_file.read_bytes()
    assert read_datalog(raw / "README.md")[0]["sha256"] == _sha(mirror_file)


def test_a_file_that_does_not_parse_never_replaces_a_good_one(
    small_mirror: Path, raw: Path
) -> None:
    fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)
    good = (raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv").read_bytes()
    # Truncated mid-row, as an interrupted copy would be.
    (small_mirror / "plz_osm" / "zuordnung_plz_ort.csv").write_bytes(good[: len(good) // 2 - 7])

    results = fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)

    assert results[0].status == "failed" and "does not parse" in results[0].message
    assert (raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv").read_bytes() == good
    assert _leftovers(raw) == []


def test_parts_left_by_a_killed_fetch_are_cleaned_up(small_mirror: Path, raw: Path) -> None:
    folder = raw / "official" / "plz_osm"
    folder.mkdir(parents=True)
    stale = folder / ".zuordnung_plz_ort.k1ll3d.part.csv"
    fresh = folder / ".zuordnung_plz_ort.running.part.csv"
    for path in (stale, fresh):
        path.write_text("osm_id,ags")
    old = stale.stat().st_mtime - fetch_module.STALE_SECONDS - 5
    os.utime(stale, (old, old))

    fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)

    assert not stale.exists()
    assert fresh.exists()  # may belong to a fetch that is still running


def test_sha256sums_of_the_mirror_are_checked(small_mirror: Path, raw: Path) -> None:
    (small_mirror / "SHA256SUMS").write_text(f"{'0' * 64}  plz_osm/zuordnung_plz_ort.csv\n")

    results = fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)

    assert results[0].status == "failed" and "SHA256SUMS" in results[0].message
    assert not (raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv").exists()


def test_missing_sources_are_reported_and_set_the_exit_code(small_mirror: Path, raw: Path) -> None:
    out = io.StringIO()

    optional = fetch_cli(mirror=str(small_mirror), only=["plz-osm"], raw_root=raw, out=out)
    asked_for = fetch_cli(mirror=str(small_mirror), only=["genesis-52311-01-04-4"], raw_root=raw,
                          out=io.StringIO())  # fmt: skip
    everything = fetch_cli(mirror=str(small_mirror), raw_root=raw, out=(full := io.StringIO()))

    assert optional == 0
    assert asked_for == 1  # named with --only: missing is a failure
    assert everything == 1  # required sources are not in this small mirror
    text = full.getvalue()
    assert "missing (optional)  genesis-52311-01-04-4" in text
    assert "missing             genesis-12411-01-01-4" in text
    assert "unchanged           plz-osm" in text


def test_unknown_source_id_is_a_clear_usage_error(raw: Path) -> None:
    from analysis.cli import main

    with pytest.raises(ParameterError, match="unknown source id.*nope.*plz-osm"):
        fetch(only=["nope"], raw_root=raw)
    assert main(["data", "fetch", "--only", "nope", "--mirror", str(raw.parent)]) == 2


def test_mirror_directory_must_exist(tmp_path: Path, raw: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        fetch(only=["plz-osm"], mirror=tmp_path / "absent", raw_root=raw)


def test_mirror_from_environment(small_mirror: Path, raw: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBOOK_MIRROR", str(small_mirror))

    results = fetch(only=["plz-osm"], raw_root=raw)

    assert results[0].status == "fetched"


# ------------------------------------------------------------------ HTTP mirror


def test_fetch_from_a_mirror_url(small_mirror: Path, raw: Path) -> None:
    with serve(_static(small_mirror)) as url:
        results = fetch(only=["plz-osm", "bbsr-kreis-changes-2021"], mirror=url, raw_root=raw)
        again = fetch(only=["plz-osm"], mirror=url, raw_root=raw)

    assert [r.status for r in results] == ["fetched", "fetched"]
    assert again[0].status == "unchanged"
    assert (
        raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv"
    ).read_bytes() == PLZ_FIXTURE.read_bytes()
    origin = read_datalog(raw / "README.md")[-1]["origin"]
    assert origin.startswith("mirror http://127.0.0.1:")


def test_missing_file_on_a_mirror_url_is_reported(small_mirror: Path, raw: Path) -> None:
    with serve(_static(small_mirror)) as url:
        results = fetch(only=["genesis-73111-01-01-4"], mirror=url, raw_root=raw)

    assert results[0].status == "missing" and "404" in results[0].message


def _body_then_hang_up(body: bytes, *, claimed: int):
    """A server that announces ``claimed`` bytes, sends ``body`` and closes."""

    class Handler(_Quiet, BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            if self.path.endswith("SHA256SUMS"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(claimed))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

    return Handler


def test_interrupted_download_leaves_no_file(raw: Path) -> None:
    body = PLZ_FIXTURE.read_bytes()

    with serve(_body_then_hang_up(body[:100], claimed=len(body))) as url:
        results = fetch(only=["plz-osm"], mirror=url, raw_root=raw)

    assert results[0].status == "failed"
    assert f"received 100 of {len(body)} bytes" in results[0].message
    assert not (raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv").exists()
    assert _leftovers(raw) == []


def test_interrupted_download_keeps_the_previous_file(small_mirror: Path, raw: Path) -> None:
    fetch(only=["plz-osm"], mirror=small_mirror, raw_root=raw)
    target = raw / "official" / "plz_osm" / "zuordnung_plz_ort.csv"
    before, mtime = target.read_bytes(), target.stat().st_mtime_ns

    with serve(_body_then_hang_up(b"osm_id,ags", claimed=5000)) as url:
        assert fetch_cli(mirror=url, only=["plz-osm"], raw_root=raw, out=io.StringIO()) == 1

    assert target.read_bytes() == before and target.stat().st_mtime_ns == mtime
    assert _leftovers(raw) == []


# ------------------------------------------------------------------ publishers


def _patched(monkeypatch, **changes_by_id) -> None:
    entries = tuple(
        dataclasses.replace(e, **changes_by_id[e.id]) if e.id in changes_by_id else e
        for e in cat.catalogue()
    )
    monkeypatch.setattr(fetch_module, "catalogue", lambda: entries)


def test_unreachable_publisher_gives_a_clear_message(raw: Path, monkeypatch) -> None:
    with serve(_static(raw.parent)) as url:  # start and stop: the port is now closed
        dead = url
    _patched(monkeypatch, **{"plz-osm": {"download_url": dead + "zuordnung_plz_ort.csv"}})

    results = fetch(only=["plz-osm"], raw_root=raw)

    assert results[0].status == "failed"
    assert "cannot reach 127.0.0.1" in results[0].message and "--mirror" in results[0].message


def test_genesis_without_credentials_fails_clearly(raw: Path) -> None:
    results = fetch(only=["genesis-12411-01-01-4"], raw_root=raw)

    assert results[0].status == "failed"
    assert "GENESIS_TOKEN" in results[0].message and "GENESIS_USERNAME" in results[0].message


def _genesis_service(answer: bytes, content_type: str, seen: list):
    class Handler(_Quiet, BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            length = int(self.headers["Content-Length"])
            form = self.rfile.read(length).decode()
            seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, form))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    return Handler


@pytest.mark.mirror
def test_genesis_table_through_the_web_service(raw: Path, monkeypatch) -> None:
    table = _mirror() / "genesis_ffcsv" / "12411-01-01-4_de_flat.csv"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(table, "12411-01-01-4_flat.csv")
    seen: list = []
    monkeypatch.setenv("GENESIS_USERNAME", "user")
    monkeypatch.setenv("GENESIS_PASSWORD", "secret")

    with serve(_genesis_service(archive.getvalue(), "application/zip", seen)) as url:
        monkeypatch.setenv("GENESIS_URL", url + "genesisws/rest/2020/")
        results = fetch(only=["genesis-12411-01-01-4"], raw_root=raw)

    assert results[0].status == "fetched", results[0].message
    assert (
        raw / "official" / "genesis_ffcsv" / "12411-01-01-4_de_flat.csv"
    ).read_bytes() == table.read_bytes()
    path, headers, form = seen[0]
    assert path == "/genesisws/rest/2020/data/tablefile"
    assert headers["username"] == "user" and headers["password"] == "secret"
    assert "secret" not in form and "name=12411-01-01-4" in form and "format=ffcsv" in form
    assert read_datalog(raw / "README.md")[0]["origin"].endswith("table 12411-01-01-4)")


@pytest.mark.parametrize(
    ("status", "needle"),
    [
        ({"Code": 98, "Content": "too big"}, "too large"),
        ({"Code": 25, "Content": "no such"}, "status 25"),
    ],
)
def test_genesis_status_answers_are_reported(raw: Path, monkeypatch, status, needle) -> None:
    seen: list = []
    monkeypatch.setenv("GENESIS_TOKEN", "tok")
    answer = json.dumps({"Status": {**status, "Type": "Fehler"}}).encode()

    with serve(_genesis_service(answer, "application/json", seen)) as url:
        monkeypatch.setenv("GENESIS_URL", url)
        results = fetch(only=["genesis-13111-01-03-4"], raw_root=raw)

    assert results[0].status == "failed" and needle in results[0].message
    assert seen[0][1]["username"] == "tok" and seen[0][1]["password"] == ""
    assert list((raw / "official" / "genesis_ffcsv").iterdir()) == []


@pytest.mark.mirror
def test_vg2500_from_the_publishers_zip(raw: Path, monkeypatch, tmp_path: Path) -> None:
    shapes = _mirror() / "bkg_vg2500"
    served = tmp_path / "bkg"
    served.mkdir()
    with zipfile.ZipFile(served / "vg2500.zip", "w") as zf:
        for part in sorted(shapes.glob("VG2500_*.*")):
            zf.write(part, f"vg2500_12-31.utm32s.shape/vg2500/{part.name}")

    with serve(_static(served)) as url:
        _patched(monkeypatch, **{"bkg-vg2500-krs": {"download_url": url + "vg2500.zip"}})
        results = fetch(only=["bkg-vg2500-krs"], raw_root=raw)

    assert results[0].status == "fetched", results[0].message
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        got = raw / "official" / "bkg_vg2500" / f"VG2500_KRS{ext}"
        assert got.read_bytes() == (shapes / f"VG2500_KRS{ext}").read_bytes()
    assert not (raw / "official" / "bkg_vg2500" / "VG2500_LAN.shp").exists()


@pytest.mark.mirror
def test_truncated_shapefile_part_keeps_the_whole_set_out(raw: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "m"
    shutil.copytree(_mirror() / "bkg_vg2500", mirror / "bkg_vg2500")
    shp = mirror / "bkg_vg2500" / "VG2500_KRS.shp"
    shp.chmod(0o644)
    shp.write_bytes(shp.read_bytes()[:-1000])

    results = fetch(only=["bkg-vg2500-krs"], mirror=mirror, raw_root=raw)

    assert results[0].status == "failed" and "truncated" in results[0].message
    assert list((raw / "official" / "bkg_vg2500").iterdir()) == []


# ------------------------------------------------------------------ the real mirror


@pytest.mark.mirror
def test_real_mirror_files_over_http_are_byte_identical(raw: Path) -> None:
    mirror = _mirror()
    ids = ["genesis-12411-01-01-4", "genesis-21311-01-01-4-B", "plz-osm", "bkg-vg2500-lan"]

    with serve(_static(mirror)) as url:
        results = fetch(only=ids, mirror=url, raw_root=raw)

    assert [r.status for r in results] == ["fetched"] * 4, [r.message for r in results]
    for row in read_datalog(raw / "README.md"):
        local = raw / row["file"]
        assert (
            local.read_bytes() == (mirror / Path(row["file"]).relative_to("official")).read_bytes()
        )
    # The 21311 mirror copy is a row subset under its own name; it is found over HTTP too.
    assert cat.local_path("genesis-21311-01-01-4-B", raw / "official").name.startswith(
        "21311-01-01-4-B_subset"
    )


@pytest.mark.mirror
@pytest.mark.slow  # parses every file (GV-ISys alone takes ~10 s)
def test_whole_catalogue_from_the_real_mirror(raw: Path) -> None:
    mirror = _mirror()
    out = io.StringIO()

    code = fetch_cli(mirror=str(mirror), raw_root=raw, out=out)
    again = fetch(mirror=mirror, raw_root=raw)

    assert code == 0, out.getvalue()
    statuses = {r.source_id: r.status for r in again}
    assert statuses["genesis-12411-01-01-4"] == "unchanged"
    assert statuses["bbsr-kreis-crosswalk"] == "unchanged"
    assert statuses["genesis-52311-01-04-4"] == "missing"  # a catalogue entry not in the mirror
    log = read_datalog(raw / "README.md")
    assert len(log) == len({row["file"] for row in log}) >= 20
    for row in log:
        local = raw / row["file"]
        assert _sha(local) == row["sha256"]
        assert (
            local.read_bytes() == (mirror / Path(row["file"]).relative_to("official")).read_bytes()
        )
    subset = cat.local_path("genesis-21311-01-01-4-B", raw / "official")
    assert subset is not None and subset.name.startswith("21311-01-01-4-B_subset")
