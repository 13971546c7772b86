"""Demo part "firms": a synthetic Hidden-Champion list in the firm-list schema.

Writes ``firms/hidden_champions.csv`` (German conventions: ``;`` separated, UTF-8
with byte-order mark, German header labels, export share in percent) with about
:data:`N_FIRMS` invented firms located in the demo geography's postcodes, and
returns the truths for ``TRUTH.json["firms"]``.

Injected model (documented truth)
---------------------------------
The number of listed firms in Kreis ``i`` is negative binomial (NB2, a gamma-Poisson
mixture with overdispersion :data:`NB_ALPHA`) with mean::

    mu_i = population_i * exp(a + beta * log(mint_students_per_1000_i + 1) + gamma_land(i))

* ``population_i`` is ``geo.kreise["population"]`` (31.12.2024, the figure the demo's
  population table carries);
* ``mint_students_per_1000_i = geo.kreise["mint_students"] / population_i * 1000``
  (MINT students, HS-FG04 + HS-FG08, per 1,000 inhabitants) — the column
  ``mint_students_per_1000`` of :func:`analysis.regions.load_kreis_indicators`, and
  ``log(. + 1)`` is :func:`analysis.champions.mint_log_indicator` — exactly the
  regressor of :func:`analysis.champions.fit_count_models`;
* ``beta`` = :data:`HC_MINT_ELASTICITY`, reported as ``hc_mint_elasticity``;
* ``gamma_land`` are Land effects: :data:`LAND_EFFECT_BASE` (shaped like the real
  pattern) plus N(0, :data:`LAND_EFFECT_SD`²) noise;
* ``a`` makes the expected total :data:`N_FIRMS`.

Firm attributes (revenue, rank, awareness, ...) are drawn independently of the
place, so each definition (Simon, Weltmarktführer-Index, all) keeps a random,
place-independent subset of the firms: its Kreis counts are again NB2 with the same
``beta`` and ``alpha`` (thinning a gamma-Poisson mixture only scales its mean). The
few quirk rows below remove or duplicate individual firms at random places, which
does not bias ``beta``.

Quirks (listed with their firm ids in the truth): revenue written as text
(``1,2 Mrd. €``, ``850 Mio``, ``850 Mio. EUR``, ``1.234.567``, ``1,234,567``), a
duplicated firm (name spelt with another legal form), postcodes that do not exist,
firms with an empty postcode but an 8-digit AGS, postcodes that lost their leading
zero, missing awareness or export share, and :data:`N_SHARED_POSTCODE` firms on a
postcode that spans two Kreise (every other firm sits on a postcode lying wholly in its
Kreis). The analysis splits a shared postcode equally between its Kreise (the OSM
mapping carries no weights), so those few firms are partly counted in a neighbour.

Every firm has a stable ``Firmen-ID`` (``HC00001`` …) so later parts (customers)
can refer to it. Deterministic: the RNG is
``default_rng(SeedSequence([seed, crc32(b"firms")]))``.
"""

from __future__ import annotations

import csv
import io
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.champions import (
    DEFINITIONS,
    classify,
    mint_log_indicator,
)
from analysis.demo.firm_vocabulary import (
    AWARENESS_LABEL,
    CONTINENT_LABEL,
    CONTINENTS,
    LEGAL_FORMS,
    SECTORS,
    SURNAMES,
    TRADES,
)

PART = "firms"
FILE = Path("firms") / "hidden_champions.csv"

N_FIRMS = 1500
HC_MINT_ELASTICITY = 0.4
NB_ALPHA = 0.3
#: Land effects on the log champion rate: a fixed pattern shaped like the real one
#: (most champions per inhabitant in Baden-Württemberg and Bayern, few in the
#: city-states and the east) plus N(0, LAND_EFFECT_SD²) noise per seed.
LAND_EFFECT_BASE: dict[str, float] = {
    "01": -0.15,
    "02": -0.6,
    "03": 0.0,
    "04": -0.5,
    "05": 0.1,
    "06": 0.1,
    "07": 0.05,
    "08": 0.45,
    "09": 0.3,
    "10": -0.1,
    "11": -1.0,
    "12": -0.7,
    "13": -0.8,
    "14": -0.4,
    "15": -0.7,
    "16": -0.4,
}
LAND_EFFECT_SD = 0.1
#: Firms placed on a postcode that spans two Kreise (counted fractionally).
N_SHARED_POSTCODE = 20
SOURCE = "Synthetische Demo-Liste (Champions Workbook)"
SOURCE_DATE = "30.06.2025"

#: Header of the written file (German labels; all are aliases the reader accepts).
HEADER = (
    "Firmen-ID",
    "Firma",
    "PLZ",
    "AGS",
    "Ort",
    "WZ 2008",
    "Umsatz (EUR)",
    "Mitarbeiter",
    "Auslandsanteil (%)",
    "Rang",
    "Marktsegment",
    "Markt",
    "Kontinente",
    "Gründungsjahr",
    "Bekanntheit",
    "Quelle",
    "Stand",
)

README_SECTION = """\
## firms/ (part "firms")

`firms/hidden_champions.csv`: about 1,500 invented firms in the firm-list schema
(`analysis.sources.firms`; German labels, `;`, UTF-8 with BOM, export share in percent),
placed in the demo postcodes. Their number per Kreis is negative binomial with mean
`population * exp(a + 0.4 * log(mint_students_per_1000 + 1) + Land effect)`: the
elasticity `hc_mint_elasticity` in `TRUTH.json["firms"]` is what notebook
`03_hidden_champions` estimates. A few rows carry the quirks of real lists (revenue as
text, a duplicate, postcodes that do not exist or lost their leading zero, an AGS
instead of a postcode, missing values); `TRUTH.json["firms"]["quirks"]` lists them.
"""


def load_truth(dataset: str = "demo") -> dict | None:
    """The firms part of the demo's ``TRUTH.json``, or ``None`` for other datasets.

    Lets the notebook show whether its interval covers the injected elasticity.
    """
    import json

    from analysis.paths import dataset_dir

    if dataset != "demo":
        return None
    path = dataset_dir("demo") / "TRUTH.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get(PART)


def _rng(seed: int) -> np.random.Generator:
    # == analysis.demo.part_rng(seed, "firms"), spelled out so the part stands alone
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(PART.encode())]))


def mint_per_1000(kreise: pd.DataFrame) -> pd.Series:
    """MINT students per 1,000 inhabitants as the demo's indicator table defines it."""
    return kreise["mint_students"] / kreise["population"] * 1000.0


def simulate_counts(
    kreise: pd.DataFrame,
    rng: np.random.Generator,
    land_effects: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Draw the number of listed firms per Kreis from the documented NB2 model.

    Parameters
    ----------
    kreise : pandas.DataFrame
        ``ags``, ``land_code``, ``population``, ``mint_students``.
    rng : numpy.random.Generator
    land_effects : dict, optional
        Land code → effect; :data:`LAND_EFFECT_BASE` plus N(0, LAND_EFFECT_SD²)
        noise when not given.

    Returns
    -------
    pandas.DataFrame
        ``ags``, ``land_code``, ``expected`` (``mu``), ``count``; ``attrs`` holds
        the intercept ``a`` and the Land effects.
    """
    lands = sorted(kreise["land_code"].astype("str").unique())
    if land_effects is None:
        noise = rng.normal(0.0, LAND_EFFECT_SD, len(lands))
        land_effects = {
            land: LAND_EFFECT_BASE.get(land, 0.0) + float(e)
            for land, e in zip(lands, noise, strict=True)
        }
    gamma = land_effects
    x = mint_log_indicator(mint_per_1000(kreise))
    population = kreise["population"].to_numpy(dtype="float64")
    rel = population * np.exp(HC_MINT_ELASTICITY * x + kreise["land_code"].map(gamma).to_numpy())
    a = float(np.log(N_FIRMS / rel.sum()))
    mu = np.exp(a) * rel
    # NB2 as a gamma-Poisson mixture: Var = mu + alpha * mu^2.
    lam = rng.gamma(shape=1.0 / NB_ALPHA, scale=NB_ALPHA * mu)
    counts = rng.poisson(lam)
    table = pd.DataFrame(
        {
            "ags": kreise["ags"].to_numpy(),
            "land_code": kreise["land_code"].to_numpy(),
            "expected": mu,
            "count": counts,
        }
    )
    table.attrs["intercept"] = a
    table.attrs["land_effects"] = {k: float(v) for k, v in gamma.items()}
    return table


def _firm_names(rng: np.random.Generator, n: int) -> list[str]:
    pairs = [(s, t) for s in SURNAMES for t in TRADES]
    if n > len(pairs):  # pragma: no cover - 2,220 pairs are enough for the demo
        raise ValueError(f"cannot invent {n} distinct firm names")
    chosen = rng.choice(len(pairs), size=n, replace=False)
    legal = rng.choice(len(LEGAL_FORMS), size=n)
    return [
        f"{pairs[i][0]} {pairs[i][1]} {LEGAL_FORMS[j]}" for i, j in zip(chosen, legal, strict=True)
    ]


def simulate_firms(geo, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw the firms (one row per real firm, canonical columns, before quirks).

    Returns
    -------
    firms : pandas.DataFrame
        ``firm_id``, ``name``, ``kreis_ags``, ``plz``, ``ags8``, ``city``, ``sector``,
        ``revenue_eur``, ``employees``, ``export_share``, ``market_rank``,
        ``market_segment``, ``market_scope``, ``continents``, ``founded``,
        ``public_awareness``.
    counts : pandas.DataFrame
        From :func:`simulate_counts`.
    """
    counts = simulate_counts(geo.kreise, rng)
    kreis_of_firm = np.repeat(counts["ags"].to_numpy(), counts["count"].to_numpy())
    n = len(kreis_of_firm)

    # A postcode of the firm's Kreis: one lying wholly in the Kreis, each equally likely
    # (the firm's Kreis is then known exactly); N_SHARED_POSTCODE firms instead sit on a
    # postcode that reaches into a neighbouring Kreis, which the analysis splits.
    plz = geo.plz.sort_values(["kreis_ags", "plz", "ags8"], ignore_index=True)
    spans = plz.groupby("plz")["kreis_ags"].transform("nunique") > 1
    # row labels (= positions: plz has a fresh RangeIndex) of each Kreis's postcodes
    own = {k: v.to_numpy() for k, v in plz[~spans].groupby("kreis_ags").groups.items()}
    every = {k: v.to_numpy() for k, v in plz.groupby("kreis_ags").groups.items()}
    shared = {k: v.to_numpy() for k, v in plz[spans].groupby("kreis_ags").groups.items()}
    pool = {k: own.get(k, every[k]) for k in every}
    picks = np.array([pool[k][rng.integers(len(pool[k]))] for k in kreis_of_firm], dtype=np.int64)
    candidates = np.flatnonzero([k in shared for k in kreis_of_firm])
    moved = rng.choice(candidates, size=min(N_SHARED_POSTCODE, len(candidates)), replace=False)
    for i in np.sort(moved):
        rows = shared[kreis_of_firm[i]]
        picks[i] = rows[rng.integers(len(rows))]
    where = plz.iloc[picks].reset_index(drop=True) if n else plz.iloc[:0]

    sector_idx = rng.choice(
        len(SECTORS), size=n, p=np.array([s[1] for s in SECTORS]) / sum(s[1] for s in SECTORS)
    )
    segment = [SECTORS[i][2][rng.integers(len(SECTORS[i][2]))] for i in sector_idx]
    # revenue: lognormal around 200 m EUR, a few large groups above 5 bn
    big = rng.random(n) < 0.03
    revenue = np.where(big, rng.lognormal(np.log(7e9), 0.5, n), rng.lognormal(np.log(2e8), 1.0, n))
    revenue = np.clip(revenue, 5e6, 60e9).round(-5)
    employees = np.round(revenue / rng.uniform(150_000, 350_000, n)).astype(np.int64)
    export_share = np.round(rng.beta(6.0, 3.0, n) * 100).astype(np.int64)
    world = rng.random(n) < 0.78
    rank = np.where(
        world,
        rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.42, 0.25, 0.15, 0.08, 0.06, 0.04]),
        rng.choice([1, 2], size=n, p=[0.8, 0.2]),
    )
    continent = rng.choice(len(CONTINENTS), size=n, p=[0.8, 0.1, 0.1])
    scope = np.where(world, "world", np.array(CONTINENTS, dtype=object)[continent])
    continents = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.04, 0.1, 0.26, 0.3, 0.2, 0.1])
    founded = np.clip(np.round(2015 - rng.gamma(2.5, 28.0, n)), 1811, 2015).astype(np.int64)
    awareness = rng.choice(["low", "medium", "high"], size=n, p=[0.8, 0.15, 0.05])

    firms = pd.DataFrame(
        {
            "firm_id": [f"HC{i:05d}" for i in range(1, n + 1)],
            "name": _firm_names(rng, n),
            "kreis_ags": kreis_of_firm.astype("str"),
            "plz": where["plz"].to_numpy(),
            "ags8": where["ags8"].to_numpy(),
            "city": where["ort"].to_numpy(),
            "sector": [SECTORS[i][0] for i in sector_idx],
            "revenue_eur": revenue,
            "employees": employees,
            "export_share": export_share / 100.0,
            "market_rank": rank.astype(np.int64),
            "market_segment": segment,
            "market_scope": scope.astype("str"),
            "continents": continents.astype(np.int64),
            "founded": founded,
            "public_awareness": awareness.astype("str"),
        }
    )
    firms.attrs["shared_postcode"] = sorted(firms["firm_id"].iloc[moved].tolist())
    return firms, counts


def _revenue_text(value: float, style: int) -> tuple[str, float]:
    """Revenue written as text in one of the styles of real lists; returns (text, value)."""
    if style == 0:
        if value >= 1e9:
            v = round(value / 1e9, 1)
            return f"{v:.1f}".replace(".", ",") + " Mrd. €", v * 1e9
        v = round(value / 1e6, 1)
        return f"{v:.1f}".replace(".", ",") + " Mio. €", round(v * 1e6)
    if style in (1, 2):
        v = round(value / 1e6)
        return (f"{v} Mio" if style == 1 else f"{v} Mio. EUR"), v * 1e6
    v = round(value)
    grouped = f"{v:,}"  # 1,234,567
    return (grouped.replace(",", ".") if style == 3 else grouped), float(v)


def _variant_name(name: str) -> str:
    """The same firm under another legal form (how duplicates creep into lists)."""
    for legal in sorted(set(LEGAL_FORMS), key=len, reverse=True):
        if name.endswith(" " + legal):
            base = name[: -len(legal) - 1]
            return f"{base} {'GmbH' if legal == 'GmbH & Co. KG' else 'GmbH & Co. KG'}"
    return name.upper()


def _rows(firms: pd.DataFrame, rng: np.random.Generator, geo) -> tuple[list[list[str]], dict]:
    """The file's rows with quirks, and the quirk truths."""
    n = len(firms)
    order = rng.permutation(n)  # a list is not sorted by Kreis
    on_shared = np.flatnonzero(firms["firm_id"].isin(firms.attrs.get("shared_postcode", [])))
    free = np.setdiff1d(np.arange(n), on_shared)
    picked = rng.choice(free, size=min(len(free), 24), replace=False).tolist()
    text_rev = set(picked[:15])
    missing_awareness = set(picked[15:18])
    missing_share = set(picked[18:20])
    ags_only = set(picked[20:22])
    bad_plz = set(picked[22:24])
    zero = np.flatnonzero(firms["plz"].str.startswith("0").to_numpy())
    zero = np.setdiff1d(zero, [*picked, *on_shared])
    lost_zero = set(rng.choice(zero, size=min(3, len(zero)), replace=False).tolist())
    rest = np.setdiff1d(free, [*picked, *lost_zero])
    duplicate = int(rng.choice(rest)) if len(rest) else None
    known = set(geo.plz["plz"])
    rows: list[list[str]] = []
    truth_text: dict[str, str] = {}
    truth_bad: dict[str, str] = {}
    revenue = firms["revenue_eur"].to_numpy().copy()
    for k, i in enumerate(order):
        f = firms.iloc[i]
        rev = f"{int(revenue[i])}"
        if i in text_rev:
            rev, value = _revenue_text(revenue[i], k % 5)
            revenue[i] = value
            truth_text[f["firm_id"]] = rev
        plz, ags = f["plz"], ""
        if i in ags_only:
            plz, ags = "", f["ags8"]
        elif i in lost_zero:
            plz = plz.lstrip("0") if plz.startswith("0") else plz
        elif i in bad_plz:
            region = int(rng.integers(10, 100))
            candidate = f"{region:02d}{int(rng.integers(0, 1000)):03d}"
            while candidate in known:
                candidate = f"{(int(candidate) + 7) % 100000:05d}"
            plz = candidate
            truth_bad[f["firm_id"]] = plz
        scope = f["market_scope"]
        row = [
            f["firm_id"],
            f["name"],
            plz,
            ags,
            f["city"],
            f["sector"],
            rev,
            str(f["employees"]),
            "" if i in missing_share else str(round(f["export_share"] * 100)),
            str(f["market_rank"]),
            f["market_segment"],
            "Welt" if scope == "world" else CONTINENT_LABEL[scope],
            str(f["continents"]),
            str(f["founded"]),
            "" if i in missing_awareness else AWARENESS_LABEL[f["public_awareness"]],
            SOURCE,
            SOURCE_DATE,
        ]
        rows.append(row)
        if i == duplicate:
            rows.append([row[0], _variant_name(row[1]), *row[2:]])
    quirks = {
        "revenue_text": truth_text,
        "duplicate": firms["firm_id"].iloc[duplicate] if duplicate is not None else None,
        "unknown_postcode": truth_bad,
        "ags_without_postcode": sorted(firms["firm_id"].iloc[sorted(ags_only)].tolist()),
        "postcode_lost_leading_zero": sorted(firms["firm_id"].iloc[sorted(lost_zero)].tolist()),
        "missing_awareness": sorted(firms["firm_id"].iloc[sorted(missing_awareness)].tolist()),
        "missing_export_share": sorted(firms["firm_id"].iloc[sorted(missing_share)].tolist()),
        "shared_postcode": firms.attrs.get("shared_postcode", []),
    }
    return rows, quirks | {"_revenue": revenue}


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def write_part(out: Path, geo, seed: int) -> dict:
    """Write ``firms/hidden_champions.csv`` under ``out`` and return the truths.

    Parameters
    ----------
    out : Path
        The demo folder.
    geo : analysis.demo.geography.Geography
        The demo geography (Kreise, postcodes).
    seed : int
        The demo seed.

    Returns
    -------
    dict
        Truths for ``TRUTH.json["firms"]``: ``hc_mint_elasticity``, ``nb_alpha``,
        ``indicator`` (the exact regressor), ``intercept``, ``land_effects``,
        ``n_firms`` (distinct firms), ``n_rows`` (rows in the file),
        ``expected_total``, ``kreis_counts`` (drawn count per Kreis, before quirks),
        ``definition_counts`` (firms meeting each definition) and ``quirks``.
    """
    rng = _rng(seed)
    firms, counts = simulate_firms(geo, rng)
    rows, quirks = _rows(firms, rng, geo)
    firms = firms.assign(revenue_eur=quirks.pop("_revenue"))
    path = Path(out) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_csv_bytes(rows))

    defined = {}
    for definition in DEFINITIONS:
        flag = classify(
            firms.assign(
                public_awareness=firms["public_awareness"].where(
                    ~firms["firm_id"].isin(quirks["missing_awareness"])
                ),
                export_share=firms["export_share"].where(
                    ~firms["firm_id"].isin(quirks["missing_export_share"])
                ),
            ),
            definition,
        )
        defined[definition] = int(flag.fillna(False).sum())
    return {
        "hc_mint_elasticity": HC_MINT_ELASTICITY,
        "nb_alpha": NB_ALPHA,
        "indicator": (
            "log(mint_students_per_1000 + 1), mint_students_per_1000 = mint_students / "
            "population * 1000 (population 31.12.2024); offset log(population); "
            "Land fixed effects; NB2 counts of listed firms per Kreis"
        ),
        "intercept": counts.attrs["intercept"],
        "land_effects": counts.attrs["land_effects"],
        "land_effect_base": LAND_EFFECT_BASE,
        "land_effect_sd": LAND_EFFECT_SD,
        "expected_total": N_FIRMS,
        "n_firms": len(firms),
        "n_rows": len(rows),
        "kreis_counts": {
            str(a): int(c) for a, c in zip(counts["ags"], counts["count"], strict=True) if c
        },
        "definition_counts": defined,
        "file": FILE.as_posix(),
        "quirks": quirks,
    }
