"""The prepared-inputs cache: same frame as the reader, keyed by content and code, safe."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from analysis import prepared
from analysis.regions import load_kreis_indicators
from analysis.sources.official.genesis import read_ffcsv

FLAT = (
    "statistics_code;statistics_label;time_code;time_label;time;"
    "1_variable_code;1_variable_label;1_variable_attribute_code;1_variable_attribute_label;"
    "value;value_unit;value_variable_code;value_variable_label\n"
    "12411;Bevölkerung;STAG;Stichtag;2024-12-31;KREISE;Kreise;03159;Göttingen;{v};Anzahl;"
    "BEVSTD;Bevölkerungsstand\n"
)

CALLS: list[Path] = []


def counting_reader(path: Path) -> pd.DataFrame:
    """read_ffcsv, counting its calls."""
    CALLS.append(path)
    return read_ffcsv(path)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(folder))
    monkeypatch.delenv("WORKBOOK_PREPARED", raising=False)
    CALLS.clear()
    return folder / "prepared"


def _flat(folder: Path, value: int) -> Path:
    path = folder / "12411-01-01-4_de_flat.csv"
    path.write_bytes(b"\xef\xbb\xbf" + FLAT.format(v=value).encode("utf-8"))
    return path


def test_second_read_comes_from_the_cache_and_equals_the_reader(tmp_path, cache):
    path = _flat(tmp_path, 328028)
    before = path.read_bytes()

    first = prepared.read_prepared(path, counting_reader)
    second = prepared.read_prepared(path, counting_reader)

    assert len(CALLS) == 1
    pd.testing.assert_frame_equal(first, second)
    assert second.attrs["statistic_label"] == first.attrs["statistic_label"]
    assert second.attrs["dimensions"] == first.attrs["dimensions"]
    assert path.read_bytes() == before  # the source is never touched
    assert [p.suffix for p in cache.iterdir()] == [".parquet"]


def test_changed_source_or_version_gives_a_new_key(tmp_path, cache):
    path = _flat(tmp_path, 328028)
    prepared.read_prepared(path, counting_reader)

    _flat(tmp_path, 1)
    changed = prepared.read_prepared(path, counting_reader)
    prepared.read_prepared(path, counting_reader, version=2)

    assert changed["value"].tolist() == [1.0]
    assert len(CALLS) == 3
    assert len(list(cache.iterdir())) == 3


def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path, cache, capsys):
    path = _flat(tmp_path, 328028)
    prepared.read_prepared(path, counting_reader)
    target = prepared.cache_path(path, counting_reader)
    target.write_bytes(b"not parquet")

    frame = prepared.read_prepared(path, counting_reader)

    assert frame["value"].tolist() == [328028.0]
    assert len(CALLS) == 2
    assert "ignoring unreadable" in capsys.readouterr().err
    assert prepared.read_prepared(path, counting_reader)["value"].tolist() == [328028.0]
    assert len(CALLS) == 2


def test_turned_off_it_always_parses_and_writes_nothing(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("WORKBOOK_PREPARED", "off")
    path = _flat(tmp_path, 5)

    prepared.read_prepared(path, counting_reader)
    prepared.read_prepared(path, counting_reader)

    assert len(CALLS) == 2
    assert not cache.exists()


def test_an_unwritable_cache_only_costs_the_parse(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(blocker))  # a file, not a folder
    path = _flat(tmp_path, 7)

    frame = prepared.read_prepared(path, read_ffcsv)

    assert frame["value"].tolist() == [7.0]
    assert "not cached" in capsys.readouterr().err


def _read_in_process(args: tuple[str, str]) -> list[float]:
    import os

    os.environ["WORKBOOK_CACHE_DIR"] = args[1]
    return prepared.read_prepared(Path(args[0]), read_ffcsv)["value"].tolist()


def test_concurrent_writers_leave_one_complete_file(tmp_path, cache):
    path = _flat(tmp_path, 328028)
    context = multiprocessing.get_context("spawn")

    with context.Pool(4) as pool:
        results = pool.map(_read_in_process, [(str(path), str(cache.parent))] * 8)

    assert results == [[328028.0]] * 8
    files = list(cache.iterdir())
    assert files == [prepared.cache_path(path, read_ffcsv)]  # no temporary file left behind
    pd.testing.assert_frame_equal(prepared.read_prepared(path, read_ffcsv), read_ffcsv(path))


def test_cached_indicators_note_the_original_files(demo_root, cache, monkeypatch):
    import analysis.provenance

    first = load_kreis_indicators("demo", root=demo_root)
    monkeypatch.setattr(analysis.provenance._SESSION, "inputs", {})
    second = load_kreis_indicators("demo", root=demo_root)
    noted = analysis.provenance.noted_inputs()

    pd.testing.assert_frame_equal(first, second)
    assert second.attrs["reference_dates"] == first.attrs["reference_dates"]
    assert {Path(item["path"]).name for item in noted} >= {"12411-01-01-4_de_flat.csv"}
    assert all(len(item["sha256"]) == 64 for item in noted)
    assert any(p.name.startswith("kreis_indicators_demo") for p in cache.iterdir())


def test_cached_boundaries_equal_the_reader(demo_root, cache, monkeypatch):
    import numpy as np

    from analysis import geometry
    from analysis.sources.official import vg2500

    monkeypatch.setenv("WORKBOOK_DEMO_DIR", str(demo_root))
    direct = vg2500.read_geojson(geometry.find_geometry_file("demo"))

    first = geometry.load_kreis_geometry("demo")
    second = geometry.load_kreis_geometry("demo")

    for frame in (first, second):
        pd.testing.assert_frame_equal(
            frame.drop(columns="geometry"), direct.drop(columns="geometry")
        )
        for rings, expected in zip(frame["geometry"], direct["geometry"], strict=True):
            assert len(rings) == len(expected)
            assert all(np.array_equal(a, b) for a, b in zip(rings, expected, strict=True))
    assert any(p.name.startswith("kreise_geojson") or "geojson" in p.name for p in cache.iterdir())


def test_the_same_bytes_elsewhere_share_the_cache_but_keep_their_path(tmp_path, cache):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _flat(tmp_path / "a", 9)
    second = _flat(tmp_path / "b", 9)

    prepared.read_prepared(first, counting_reader)
    frame = prepared.read_prepared(second, counting_reader)

    assert len(CALLS) == 1
    assert frame.attrs["path"] == str(second)


def test_postcode_table_through_the_cache_is_the_same_and_noted(demo_root, cache, monkeypatch):
    import analysis.provenance
    from analysis.sources.official.plz import read_plz, read_plz_prepared

    path = demo_root / "official" / "plz_osm" / "zuordnung_plz_ort.csv"
    read_plz_prepared(path)
    monkeypatch.setattr(analysis.provenance._SESSION, "inputs", {})

    frame = read_plz_prepared(path)

    pd.testing.assert_frame_equal(frame, read_plz(path))
    assert [Path(item["path"]).name for item in analysis.provenance.noted_inputs()] == [path.name]
