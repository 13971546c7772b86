"""Licensed import layouts (BA MINT employment, Entgeltatlas) and their use as indicators."""

from __future__ import annotations

import shutil

import pytest

from analysis.errors import InputError
from analysis.regions import load_kreis_indicators
from analysis.sources.official.licensed import read_ba_mint_employment, read_entgeltatlas


def _write(path, text, encoding="utf-8-sig"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_ba_layout_reads_and_validates(tmp_path):
    good = _write(
        tmp_path / "ba.csv",
        "ags;stichtag;mint_employees;employees_total\n03159;2024-06-30;21500;139800\n"
        '09162;2024-06-30;"210.000,0";1100000\n',
    )
    frame = read_ba_mint_employment(good)
    assert frame["mint_employees"].tolist() == [21500.0, 210000.0]
    bad_cases = [
        ("ags;stichtag;mint_employees\n", r"missing column\(s\) employees_total"),
        (
            "ags;stichtag;mint_employees;employees_total\n3159;2024-06-30;1;2\n",
            r"line 2, column 'ags'",
        ),
        (
            "ags;stichtag;mint_employees;employees_total\n03159;30.06.2024;1;2\n",
            r"line 2, column 'stichtag'",
        ),
        ("ags;stichtag;mint_employees;employees_total\n03159;2024-06-30;5;2\n", "exceed the total"),
        (
            "ags;stichtag;mint_employees;employees_total\n03159;2024-06-30;x;2\n",
            "column 'mint_employees'",
        ),
        (
            "ags;stichtag;mint_employees;employees_total\n03159;2024-06-30;1;2\n03159;2024-06-30;1;2\n",
            "already on line 2",
        ),
    ]
    for text, message in bad_cases:
        with pytest.raises(InputError, match=message):
            read_ba_mint_employment(_write(tmp_path / "bad.csv", text))
    with pytest.raises(InputError, match="line 2: expected UTF-8"):
        read_ba_mint_employment(
            _write(
                tmp_path / "latin.csv", "ags;stichtag;mint_employees;employees_total\nä", "latin-1"
            )
        )


def test_entgeltatlas_layout(tmp_path):
    path = _write(
        tmp_path / "w.csv",
        "ags;year;occupation_group;median_monthly_wage_eur\n03159;2024;MINT;4812,5\n03159;2024;all;3960\n",
    )
    frame = read_entgeltatlas(path)
    assert frame["median_monthly_wage_eur"].tolist() == [4812.5, 3960.0]
    with pytest.raises(InputError, match="column 'occupation_group'"):
        read_entgeltatlas(
            _write(
                tmp_path / "b.csv",
                "ags;year;occupation_group;median_monthly_wage_eur\n03159;2024;IT;1\n",
            )
        )


def test_licensed_files_become_indicators(demo_root, tmp_path):
    root = tmp_path / "dataset"
    shutil.copytree(demo_root / "official", root / "official")
    kreise = load_kreis_indicators("demo", root=root)
    region, other = kreise["ags"].iloc[0], kreise["ags"].iloc[1]
    _write(
        root / "licensed" / "ba_mint_employment.csv",
        "ags;stichtag;mint_employees;employees_total\n"
        f"{region};2023-06-30;10;100\n{region};2024-06-30;30;120\n{other};2024-06-30;0;50\n",
    )
    _write(
        root / "licensed" / "entgeltatlas_wages.csv",
        f"ags;year;occupation_group;median_monthly_wage_eur\n{region};2024;MINT;5000\n{region};2024;all;4000\n",
    )
    with_licensed = load_kreis_indicators("demo", root=root).set_index("ags")
    assert with_licensed.loc[region, "mint_employment_share_pct"] == pytest.approx(
        25.0
    )  # latest date
    assert with_licensed.loc[other, "mint_employment_share_pct"] == 0.0
    assert with_licensed.loc[region, "median_wage_mint_eur"] == 5000.0
    assert "mint_employment_share_pct" not in with_licensed.attrs["missing_indicators"]
