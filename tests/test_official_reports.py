"""Regression checks on real data: notebooks 01 and 02 built on the official files.

Needs the mirror of official files (``../shared/data/official`` beside the checkout, or
``WORKBOOK_SHARED_DATA``). The official dataset is fetched from it into a temporary
project root (``WORKBOOK_ROOT``), never into the repository; reports go to a temporary
folder and the prepared-inputs cache to another. The key figures are the published
facts listed in the mirror's README ("Facts worth a test").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]

WORKBOOK = Path(sys.executable).with_name("workbook")


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WORKBOOK_ROOT": str(root),
        "WORKBOOK_REPORTS_DIR": str(root / "reports"),
        "WORKBOOK_CACHE_DIR": str(root / "cache"),
    }


@pytest.fixture(scope="module")
def official_root(tmp_path_factory) -> Path:
    """A project root whose ``data/raw`` was filled by ``workbook data fetch --mirror``."""
    env = os.environ.get("WORKBOOK_SHARED_DATA")
    mirror = Path(env) if env else ROOT.parent / "shared" / "data" / "official"
    if not mirror.is_dir():
        pytest.skip(
            f"mirror of official files not found at {mirror}: put it at ../shared/data/official "
            "beside the checkout or set WORKBOOK_SHARED_DATA=/path/to/shared/data/official"
        )
    root = tmp_path_factory.mktemp("official_root")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    (root / "pyproject.toml").symlink_to(ROOT / "pyproject.toml")
    (root / "src").symlink_to(ROOT / "src")
    subprocess.run(
        [str(WORKBOOK), "data", "fetch", "--mirror", str(mirror)],
        env=_env(root),
        check=True,
        capture_output=True,
        text=True,
    )
    return root


def _run(root: Path, notebook: str, *params: str) -> dict:
    args = [str(WORKBOOK), "run", f"notebooks/{notebook}", "-p", "dataset", "official"]
    for pair in params:
        args += ["-p", *pair.split("=", 1)]
    done = subprocess.run(args, env=_env(root), cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    stem = Path(notebook).stem
    manifests = sorted((root / "reports" / stem).glob("official_*/runs/*/manifest.json"))
    assert manifests, f"no manifest for {stem}: {done.stdout}"
    return json.loads(manifests[-1].read_text())


def test_region_profile_on_official_data_reproduces_the_published_figures(official_root):
    manifest = _run(official_root, "01_region_profile.ipynb", "region=03159", "compare_to=09162")

    figures = manifest["figures"]
    assert figures["n_kreise"] == 400
    assert figures["population_total"] == 83_577_140
    # the region's published facts, recorded by the notebook (the same facts are checked
    # on the loader in test_official_key_figures_at_package_level)
    published = {
        "region_population": 328_028,
        "region_population_change": -629,
        "region_employees": 134_251,
        "region_income_per_taxpayer_eur": 42_934,
        "region_abitur_share_pct": 40.0,
    }
    for name, expected in published.items():
        digits = 1 if isinstance(expected, float) else 0
        assert round(figures[name], digits) == expected, name
    # every non-licensed indicator of the profile has data; only the licensed two and
    # business registrations (no open file yet) are missing
    assert figures["n_indicators_missing"] == 3
    used = {Path(item["path"]).name for item in manifest["inputs"]}
    assert {
        "12411-01-01-4_de_flat.csv",
        "12411-01-01-4_2023-12-31_de_flat.csv",
        "13111-01-03-4_2024-06-30_de_flat.csv",
        "73111-01-01-4_de_flat.csv",
        "21111-02-06-4.csv",
        "12411-01-01-4.csv",
        "ref-kreise-umrech-2020-1990-2019.xlsx",
    } <= used
    # the 2025 employees file (only '-' for Kreise) is not credited: nothing was taken from it
    assert "13111-01-03-4_de_flat.csv" not in used
    page = next((official_root / "reports" / "01_region_profile").glob("official_*/report.html"))
    text = page.read_text()
    for date in ("2024-12-31", "2023-12-31", "2024-06-30", "2015-12-31"):
        assert date in text
    # the source list names each file used, with its licence
    for name in ("12411-01-01-4_2023-12-31_de_flat.csv", "21111-02-06-4.csv", "dl-de/by-2-0"):
        assert name in text


def test_cluster_report_on_official_data(official_root):
    manifest = _run(official_root, "02_mint_clusters.ipynb", "region=03159")

    assert manifest["figures"]["n_kreise"] == 400
    assert manifest["figures"]["population_total"] == 83_577_140


def test_official_key_figures_at_package_level(official_root, monkeypatch):
    """The published facts on the loader the notebooks use (fast, without a kernel)."""
    from analysis.regions import load_kreis_indicators

    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(official_root / "cache"))
    kreise = load_kreis_indicators("official", root=official_root / "data" / "raw")
    by_ags = kreise.set_index("ags")
    goettingen = by_ags.loc["03159"]

    assert len(kreise) == 400
    assert kreise["population"].sum() == 83_577_140
    assert goettingen["population"] == 328_028
    assert goettingen["population"] - goettingen["population_prev"] == -629
    assert goettingen["employees"] == 134_251
    assert round(goettingen["income_per_taxpayer_eur"]) == 42_934
    assert round(goettingen["abitur_share_pct"], 1) == 40.0
    assert kreise["abitur_share_pct"].notna().sum() == 398
    dates = kreise.attrs["reference_dates"]
    assert (dates["employees"], dates["income_per_taxpayer_eur"], dates["abitur_share_pct"]) == (
        "2024-06-30",
        "2021",
        "2023",
    )
    # every file the loader used is credited with reference date and licence
    for item in kreise.attrs["sources"]:
        assert item["reference_date"] and item["credit"], item
        assert item["licence"] or item["path"].endswith("kreise_2024.csv"), item
    longrun = kreise.attrs["longrun"]
    assert (longrun["basis_start"], longrun["basis_end"]) == ("zensus2011", "zensus2022")
    assert kreise["population_longrun_start"].notna().sum() == 400
    # 2015 on today's territory: Göttingen 2015 = Göttingen (03152) + Osterode am Harz (03156)
    assert goettingen["population_longrun_start"] == 329_538
    assert longrun["germany_start"] == 82_175_684
    assert kreise["population_longrun_start"].sum() == pytest.approx(82_175_684, abs=1)
    dates = kreise.attrs["indicator_dates"]
    assert dates["population_share_change_longrun_pct"] == "2015-12-31 → 2024-12-31"
    assert dates["abitur_share_pct"] == "2023"
    from analysis.regions.longrun import describe_longrun

    sentence = describe_longrun(kreise, "03159")
    assert "Zensus-2011" in sentence and "Zensus-2022" in sentence
    assert "82,175,684 → 83,577,140" in sentence and "Göttingen" in sentence


def test_every_2015_classic_table_lands_on_todays_400_kreise(monkeypatch, tmp_path):
    from analysis.regions.longrun import harmonized_classic_tables

    env = os.environ.get("WORKBOOK_SHARED_DATA")
    mirror = Path(env) if env else ROOT.parent / "shared" / "data" / "official"
    if not mirror.is_dir():
        pytest.skip(f"mirror not found at {mirror}: set WORKBOOK_SHARED_DATA to enable")
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(tmp_path))

    tables = harmonized_classic_tables(mirror)

    assert set(tables) == {"12411-01-01-4", "11111-01-01-4", "21111-01-03-4"}
    for frame in tables.values():
        assert frame["ags"].nunique() == 400
        assert not ({"03152", "03156", "16056"} & set(frame["ags"]))
    area = tables["11111-01-01-4"].set_index("ags")["value"]
    assert area.sum() == pytest.approx(357_327.14, abs=0.01)
    population = tables["12411-01-01-4"]
    total = population.loc[population["Geschlecht"].eq("Insgesamt")].set_index("ags")["value"]
    assert total["03159"] == 255_653 + 73_885
