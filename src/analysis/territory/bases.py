"""Population bases (Zensus 2011 vs Zensus 2022): tag figures, refuse to mix them silently.

Part of :mod:`analysis.territory`.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analysis.errors import InputError, ParameterError

#: The bases official population figures can rest on.
POPULATION_BASES = ("pre_zensus2011", "zensus2011", "zensus2022")

ZENSUS_2011_DAY = date(2011, 5, 9)
ZENSUS_2022_DAY = date(2022, 5, 15)


class PopulationBaseError(InputError):
    """Two population figures on different census bases were about to be combined."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


def population_base_for(reference_date: str | date | pd.Timestamp, source: str = "genesis") -> str:
    """The census basis of an official population figure.

    Parameters
    ----------
    reference_date : str, date or Timestamp
        The figure's reference date (``"2024-12-31"``).
    source : {"genesis", "gv_isys"}
        ``genesis``: the Fortschreibung in GENESIS/regionalstatistik (12411 etc.):
        Zensus 2022 from 31.12.2022 on, Zensus 2011 from 09.05.2011, older figures
        before. ``gv_isys``: the Gemeindeverzeichnis, whose editions up to 2024 Q2
        show 31.12.2022 on the Zensus 2011 basis; from 31.12.2023 on Zensus 2022.

    Returns
    -------
    str
        One of :data:`POPULATION_BASES`.

    Raises
    ------
    ParameterError
        For dates inside 2022 before the year end (the Zensus 2022 revision starts
        at 15.05.2022; tag such figures explicitly) or an unknown source.
    """
    day = pd.Timestamp(reference_date).date()
    if source not in ("genesis", "gv_isys"):
        raise ParameterError("source", f"expected 'genesis' or 'gv_isys', got {source!r}")
    if day < ZENSUS_2011_DAY:
        return "pre_zensus2011"
    if source == "gv_isys":
        return "zensus2011" if day <= date(2022, 12, 31) else "zensus2022"
    if day < ZENSUS_2022_DAY:
        return "zensus2011"
    if day >= date(2022, 12, 31):
        return "zensus2022"
    raise ParameterError(
        "reference_date",
        f"{day} lies between the Zensus 2022 day and 31.12.2022; which basis a table uses "
        "there is not fixed: tag it explicitly with tag_population_base",
    )


def _canonical_base(value: object) -> str | None:
    """``"Zensus 2011"``, ``"zensus_2011"`` ... → ``"zensus2011"`` (None if unknown)."""
    if value is None:
        return None
    key = "".join(ch for ch in str(value).lower() if ch.isalnum())
    return {base.replace("_", ""): base for base in POPULATION_BASES}.get(key)


def population_base_of(frame: pd.DataFrame) -> str | None:
    """The census basis a frame is tagged with, or ``None``.

    Reads ``attrs["population_base"]`` (set by :func:`tag_population_base`) or,
    failing that, a reader's ``attrs["population_basis"]`` (GV-ISys states it in
    the workbook, e.g. ``"Zensus 2011"``).
    """
    for key in ("population_base", "population_basis"):
        base = _canonical_base(frame.attrs.get(key))
        if base is not None:
            return base
    return None


def tag_population_base(frame: pd.DataFrame, base: str) -> pd.DataFrame:
    """Return a copy of ``frame`` with ``attrs["population_base"] = base``.

    Parameters
    ----------
    frame : DataFrame
    base : str
        One of :data:`POPULATION_BASES` (e.g. from :func:`population_base_for`);
        spellings such as ``"Zensus 2022"`` are accepted.
    """
    canonical = _canonical_base(base)
    if canonical is None:
        raise ParameterError("base", f"expected one of {', '.join(POPULATION_BASES)}, got {base!r}")
    out = frame.copy()
    out.attrs = {**frame.attrs, "population_base": canonical}
    return out


def check_population_base(*frames: pd.DataFrame, allow_mixed: bool = False) -> str | None:
    """Make sure population figures to be combined rest on one census basis.

    Parameters
    ----------
    *frames : DataFrame
        Frames tagged with :func:`tag_population_base` (or whose reader stated
        the basis in ``attrs["population_basis"]``, see :func:`population_base_of`).
    allow_mixed : bool
        Allow different bases (the caller takes responsibility, e.g. for a
        deliberate comparison); untagged frames are still an error.

    Returns
    -------
    str or None
        The common basis, or ``None`` when mixing was allowed and happened.

    Raises
    ------
    PopulationBaseError
        A frame is untagged, or the bases differ and ``allow_mixed`` is False.
    """
    bases = []
    for i, frame in enumerate(frames):
        base = population_base_of(frame)
        if base is None:
            where = frame.attrs.get("path", f"frame {i + 1}")
            raise PopulationBaseError(
                f"{where} has no population_base tag; tag it with tag_population_base(frame, "
                f"population_base_for(reference_date, source)) before combining population figures"
            )
        bases.append(base)
    distinct = sorted(set(bases))
    if len(distinct) > 1:
        if allow_mixed:
            return None
        listed = ", ".join(
            f"{f.attrs.get('path', f'frame {i + 1}')}: {b}"
            for i, (f, b) in enumerate(zip(frames, bases, strict=True))
        )
        raise PopulationBaseError(
            f"population figures on different census bases would be combined ({listed}); "
            "Zensus 2011 and Zensus 2022 figures differ by about 1.4 million people nationally. "
            "Use figures on one basis, or pass allow_mixed=True deliberately"
        )
    return distinct[0] if distinct else None
