"""Comparing Kreise: ranks, standardised indicators, nearest peers, location quotients."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from analysis.regions.indicators import INDICATORS, indexed_by_ags, require_columns

# numpy and pandas are imported inside the functions that use them: validating a Kreis
# code (the report runner, before any kernel starts) must not pay for importing them.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def rank_kreise(indicators: pd.DataFrame, column: str, ascending: bool = False) -> pd.Series:
    """Rank of every Kreis on one indicator.

    Parameters
    ----------
    indicators : DataFrame
        One row per Kreis with an ``ags`` column (or indexed by AGS).
    column : str
        Indicator to rank.
    ascending : bool
        False (default): rank 1 is the highest value. True: rank 1 is the lowest.

    Returns
    -------
    pandas.Series
        Int64 ranks indexed by AGS, named ``rank_<column>``; ties share the best
        (lowest) rank ("min"), missing values get no rank (``<NA>``).

    Examples
    --------
    >>> frame = pd.DataFrame({"ags": ["01001", "01002", "01003"], "x": [5.0, 7.0, 5.0]})
    >>> rank_kreise(frame, "x").tolist()
    [2, 1, 2]
    """

    require_columns(indicators, [column])
    values = indexed_by_ags(indicators)[column].astype("float64")
    ranks = values.rank(method="min", ascending=ascending, na_option="keep")
    return ranks.astype("Int64").rename(f"rank_{column}")


def _skewness(values: np.ndarray) -> float:
    import numpy as np

    values = values[np.isfinite(values)]
    if len(values) < 3 or values.std() == 0:
        return 0.0
    centred = values - values.mean()
    return float((centred**3).mean() / values.std() ** 3)


#: Skewness above which :func:`standardize` log-transforms a non-negative indicator.
LOG_SKEW_THRESHOLD = 1.0


def standardize(
    indicators: pd.DataFrame,
    columns: list[str] | tuple[str, ...],
    *,
    log: str | list[str] | tuple[str, ...] = "auto",
) -> pd.DataFrame:
    """Z-scores of indicators, log-transformed where the distribution is skewed.

    Counts and rates per inhabitant of Kreise are right-skewed (a few big cities and
    university towns); on the raw scale they would dominate any distance. With
    ``log="auto"`` a column whose values are all non-negative and whose skewness
    exceeds :data:`LOG_SKEW_THRESHOLD` is transformed with ``log1p`` first. Then
    ``z = (x - mean) / sd`` with the population standard deviation (ddof 0).

    Parameters
    ----------
    indicators : DataFrame
        One row per Kreis with an ``ags`` column (or indexed by AGS).
    columns : list of str
        Indicators to standardize.
    log : "auto", "none" or list of str
        Which columns to log-transform: decided from the data, none, or exactly these.

    Returns
    -------
    pandas.DataFrame
        Same index as the input rows (AGS when there is an ``ags`` column), one
        column per indicator; NaN stays NaN. ``attrs["transform"]`` maps each column
        to ``"log1p"`` or ``"none"``; a column without spread becomes 0.
    """
    import numpy as np
    import pandas as pd

    require_columns(indicators, columns)
    frame = indexed_by_ags(indicators)
    out = {}
    transform = {}
    for column in columns:
        values = frame[column].astype("float64").to_numpy()
        finite = values[np.isfinite(values)]
        if log == "auto":
            use_log = (
                len(finite) > 0 and finite.min() >= 0 and _skewness(values) > LOG_SKEW_THRESHOLD
            )
        elif log == "none":
            use_log = False
        else:
            use_log = column in log
        if use_log:
            if len(finite) and finite.min() < 0:
                raise ValueError(f"cannot log-transform {column!r}: it has negative values")
            values = np.log1p(values)
        transform[column] = "log1p" if use_log else "none"
        mean = np.nanmean(values) if np.isfinite(values).any() else np.nan
        sd = np.nanstd(values) if np.isfinite(values).any() else np.nan
        out[column] = (
            (values - mean) / sd if sd and sd > 0 else np.where(np.isfinite(values), 0.0, np.nan)
        )
    result = pd.DataFrame(out, index=frame.index)
    result.attrs = {"transform": transform}
    return result


def nearest_peers(
    indicators: pd.DataFrame,
    region: str,
    columns: list[str] | tuple[str, ...],
    n: int = 5,
    *,
    log: str | list[str] | tuple[str, ...] = "auto",
) -> pd.DataFrame:
    """The ``n`` Kreise most similar to ``region`` on standardized indicators.

    Distance is Euclidean on the z-scores of :func:`standardize` (same ``log``
    rule), computed over all Kreise with complete values in ``columns``.

    Parameters
    ----------
    indicators : DataFrame
        One row per Kreis with ``ags`` (and ideally ``name``).
    region : str
        AGS of the Kreis whose peers are wanted.
    columns : list of str
        Indicators that define similarity.
    n : int
        Number of peers.
    log : see :func:`standardize`

    Returns
    -------
    pandas.DataFrame
        ``ags``, ``name`` (if available), ``distance``, then the raw indicator
        columns; sorted by distance then AGS, without the region itself.
        ``attrs``: ``region``, ``columns``, ``transform``, ``n_excluded_incomplete``.

    Raises
    ------
    ValueError
        Unknown region, a region with missing values in ``columns``, or ``n < 1``.
    """
    import numpy as np
    import pandas as pd

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    frame = indexed_by_ags(indicators)
    if region not in frame.index:
        raise ValueError(f"region {region!r} is not in the indicator frame")
    columns = list(columns)
    z = standardize(frame, columns, log=log)
    complete = z.notna().all(axis=1)
    if not complete.get(region, False):
        gaps = [c for c in columns if pd.isna(z.loc[region, c])]
        raise ValueError(f"region {region!r} has no value for {', '.join(gaps)}")
    zc = z.loc[complete]
    distance = np.sqrt(((zc - zc.loc[region]) ** 2).sum(axis=1)).drop(index=region)
    # nearest first; equal distances in code order, so the result never depends on row order
    ranked = sorted(
        zip(distance.to_numpy(), distance.index, strict=True), key=lambda t: (t[0], t[1])
    )
    chosen = [code for _, code in ranked[:n]]
    keep = [c for c in ("ags", "name") if c in frame.columns]
    peers = frame.loc[chosen, keep].assign(distance=[d for d, _ in ranked[:n]])
    peers = pd.concat([peers, frame.loc[chosen, columns]], axis=1).reset_index(drop=True)
    if "ags" not in peers.columns:
        peers.insert(0, "ags", list(chosen))
    peers.attrs = {
        "region": region,
        "columns": columns,
        "transform": z.attrs["transform"],
        "n_excluded_incomplete": int((~complete).sum()),
    }
    return peers


def location_quotient(local_part, local_total, national_part, national_total):
    """Location quotient: the local share of something over its national share.

    ``LQ = (local_part / local_total) / (national_part / national_total)``; 1 means
    as concentrated as in the country, 2 twice as concentrated.

    Parameters
    ----------
    local_part, local_total : float or array-like or Series
        E.g. MINT students and inhabitants of a Kreis (vectorized over Kreise).
    national_part, national_total : float
        The same for the country.

    Returns
    -------
    float or array or Series
        NaN where a total is 0 or the national share is 0.

    Examples
    --------
    >>> location_quotient(30, 1000, 200, 10000)
    1.5
    """
    import numpy as np
    import pandas as pd

    with np.errstate(divide="ignore", invalid="ignore"):
        national_share = np.divide(national_part, national_total)
        local_share = np.divide(local_part, np.where(np.equal(local_total, 0), np.nan, local_total))
        if np.ndim(national_share) == 0 and (
            national_share == 0 or not np.isfinite(national_share)
        ):
            national_share = np.nan
        result = local_share / national_share
    if isinstance(local_part, pd.Series):
        return pd.Series(np.asarray(result, dtype="float64"), index=local_part.index)
    if np.ndim(result) == 0:
        return float(result)
    return result


def location_quotients(indicators: pd.DataFrame, part: str, total: str) -> pd.Series:
    """Location quotient of ``part`` relative to ``total`` for every Kreis.

    The national shares are the sums over the Kreise with both values present.

    Parameters
    ----------
    indicators : DataFrame
    part, total : str
        Columns, e.g. ``"mint_students"`` and ``"population"``.

    Returns
    -------
    pandas.Series
        Indexed by AGS, named ``lq_<part>``.
    """
    require_columns(indicators, [part, total])
    frame = indexed_by_ags(indicators)
    both = frame[part].notna() & frame[total].notna()
    lq = location_quotient(
        frame[part].astype("float64"),
        frame[total].astype("float64"),
        float(frame.loc[both, part].sum()),
        float(frame.loc[both, total].sum()),
    )
    return lq.where(both).rename(f"lq_{part}")


def compare_regions(
    indicators: pd.DataFrame,
    region: str,
    compare_to: str,
    columns: list[str] | tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Side-by-side table of two Kreise with the German median and ranks.

    Parameters
    ----------
    indicators : DataFrame
        From :func:`load_kreis_indicators`.
    region, compare_to : str
        AGS of the two Kreise.
    columns : list of str, optional
        Indicators (rows of the result); default: the non-missing ones of
        :data:`INDICATORS` except area and the parts of MINT.

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator: ``region``, ``compare_to`` (values), ``difference``
        (region - compare_to), ``ratio`` (region / compare_to, NaN for 0),
        ``median`` (over all Kreise), ``rank_region``, ``rank_compare_to`` (1 =
        highest), ``n_ranked``. ``attrs``: ``region``, ``compare_to``,
        ``region_name``, ``compare_to_name``.
    """
    import numpy as np
    import pandas as pd

    frame = indexed_by_ags(indicators)
    for code in (region, compare_to):
        if code not in frame.index:
            raise ValueError(f"Kreis {code!r} is not in the indicator frame")
    if columns is None:
        skip = {
            "area_km2",
            "mint_math_science_students",
            "mint_engineering_students",
            "population_prev",
        }
        columns = [
            c for c in INDICATORS if c in frame.columns and c not in skip and frame[c].notna().any()
        ]
    rows = []
    for column in columns:
        ranks = rank_kreise(frame, column)
        a = float(frame.loc[region, column])
        b = float(frame.loc[compare_to, column])
        rows.append(
            {
                "indicator": column,
                "region": a,
                "compare_to": b,
                "difference": a - b,
                "ratio": a / b if b not in (0.0,) and not math.isnan(b) else np.nan,
                "median": float(frame[column].median()),
                "rank_region": ranks.get(region, pd.NA),
                "rank_compare_to": ranks.get(compare_to, pd.NA),
                "n_ranked": int(ranks.notna().sum()),
            }
        )
    table = pd.DataFrame(rows).set_index("indicator")
    table = table.astype({"rank_region": "Int64", "rank_compare_to": "Int64"})
    names = frame["name"] if "name" in frame.columns else pd.Series(frame.index, index=frame.index)
    table.attrs = {
        "region": region,
        "compare_to": compare_to,
        "region_name": str(names.loc[region]),
        "compare_to_name": str(names.loc[compare_to]),
    }
    return table


def specialisation_quotient(
    indicators: pd.DataFrame, part: str = "mint_students", total: str = "students_total"
) -> pd.Series:
    """Specialisation quotient: a Kreis's share of ``part`` in ``total`` over Germany's share.

    ``SQ_i = (part_i / total_i) / (sum part / sum total)`` with ``part`` a subset of
    ``total`` of the same kind (MINT students among all students; MINT employees
    among all employees). 1 = as specialised as Germany, 2 = twice the national share.
    Germany's share is summed over the Kreise that have both values. Not to be
    confused with :func:`per_inhabitant_index`, which divides by inhabitants and so
    mostly measures whether a Kreis is a university town.

    Parameters
    ----------
    indicators : DataFrame
    part, total : str
        Columns of counts (e.g. ``mint_students``, ``students_total``).

    Returns
    -------
    pandas.Series
        Indexed by AGS, named ``sq_<part>``; NaN where a value is missing or the
        total is 0.

    Examples
    --------
    >>> frame = pd.DataFrame({"ags": ["1", "2"], "m": [30, 10], "s": [50, 150]})
    >>> specialisation_quotient(frame, "m", "s").round(3).tolist()
    [3.0, 0.333]
    """
    return location_quotients(indicators, part, total).rename(f"sq_{part}")


def specialisation_quotient_from_share(
    indicators: pd.DataFrame,
    share_pct: str = "mint_employment_share_pct",
    total: str = "employees",
) -> pd.Series:
    """Specialisation quotient from a published share (%) and the total it refers to.

    ``SQ_i = share_i / (sum share_j total_j / sum total_j)``: the national share is
    the ``total``-weighted mean of the Kreis shares (exact when ``total`` is the base
    of the share, e.g. MINT employees in % of employees at the place of work).

    Returns
    -------
    pandas.Series
        Indexed by AGS, named ``sq_<share_pct>``.
    """
    require_columns(indicators, [share_pct, total])
    frame = indexed_by_ags(indicators)
    share = frame[share_pct].astype("float64")
    weight = frame[total].astype("float64")
    both = share.notna() & weight.notna() & (weight > 0)
    national = float((share[both] * weight[both]).sum() / weight[both].sum())
    return (share / national).where(both).rename(f"sq_{share_pct}")


def per_inhabitant_index(
    indicators: pd.DataFrame, part: str = "mint_students", population: str = "population"
) -> pd.Series:
    """Per-inhabitant index: ``part`` per inhabitant of a Kreis over Germany's (1 = German level).

    Formally a location quotient with inhabitants as the base, but ``part`` is no
    subset of the population's activity: for students it mainly says where the
    universities are. Use :func:`specialisation_quotient` for specialisation.

    Returns
    -------
    pandas.Series
        Indexed by AGS, named ``per_inhabitant_<part>``.
    """
    return location_quotients(indicators, part, population).rename(f"per_inhabitant_{part}")


def midrank_percentile(values: pd.Series, value: float | None = None) -> pd.Series | float:
    """Mid-rank percentile: share of Kreise below plus half the share tied, in %.

    ``P(x) = 100 * (#{x_j < x} + 0.5 * #{x_j = x}) / n`` over the non-missing values
    (Hazen's plotting position). The median Kreis is at 50, and a value shared by
    60 % of Kreise (e.g. 0) gets 30, not 0 (strictly below) or 60 (at or below).

    Parameters
    ----------
    values : Series
        One value per Kreis.
    value : float, optional
        Percentile of this value among ``values``; default: every value's own.

    Returns
    -------
    Series or float
        NaN for a missing value.

    Examples
    --------
    >>> midrank_percentile(pd.Series([0, 0, 0, 1, 2]), 0)
    30.0
    """
    import numpy as np

    finite = values.astype("float64").dropna().to_numpy()
    n = len(finite)

    def one(x):
        if n == 0 or x is None or not np.isfinite(x):
            return float("nan")
        return float(100 * ((finite < x).sum() + 0.5 * (finite == x).sum()) / n)

    if value is not None:
        return one(float(value))
    return values.astype("float64").map(one)
