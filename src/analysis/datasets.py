"""The one loading catalogue: every dataset a notebook needs, with its provenance as a value.

Each function takes the notebook's ``dataset`` (``"demo"`` or ``"official"``) and returns
a :class:`Loaded`: ``.data`` (the typed result of the underlying loader) and
``.provenance`` (a :class:`Provenance`: the files read with their SHA-256, sources,
credit lines and reference dates). Show them with
``analysis.show_sources(kreise.provenance, firms.provenance, ...)``.

The loaders themselves live in the domain rooms (``analysis.regions``, ``analysis.geometry``,
``analysis.champions``, ``analysis.sources.crm``, ``analysis.market.proximity``); this
module wraps them and snapshots what each one noted while it ran, so the provenance
travels with the result instead of being read back from a kernel-global session.

The comparison with the demo's injected truths goes through :func:`demo_truth` too, so
notebooks never import ``analysis.demo``; on official data it gives ``None``.

Examples
--------
>>> from analysis import datasets
>>> kreise = datasets.kreis_indicators("demo")  # doctest: +SKIP
>>> kreise.data.shape, kreise.provenance.credits  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from analysis.files import sha256_file
from analysis.provenance import capture_inputs

T = TypeVar("T")

#: Datasets a notebook can name.
DATASETS: tuple[str, ...] = ("demo", "official")
#: Parts of the demo's ``TRUTH.json`` that :func:`demo_truth` gives out.
TRUTH_PARTS: tuple[str, ...] = ("regions", "firms", "crm")


@dataclass(frozen=True)
class Provenance:
    """Where a loaded result came from.

    Attributes
    ----------
    dataset : str
        ``"demo"`` or ``"official"``.
    inputs : tuple of dict
        One entry per file read, in reading order: ``path`` (relative to the project
        where possible), ``sha256``, ``source``, ``credit``, ``reference_date``.
    """

    dataset: str
    inputs: tuple[dict, ...] = ()

    @property
    def credits(self) -> list[str]:
        """The distinct credit lines, in reading order."""
        return list(dict.fromkeys(i["credit"] for i in self.inputs if i.get("credit")))

    @property
    def reference_dates(self) -> dict[str, str]:
        """Source → reference date or period (where the loader knows it)."""
        return {
            i.get("source") or i["path"]: i["reference_date"]
            for i in self.inputs
            if i.get("reference_date")
        }

    def to_frame(self) -> pd.DataFrame:
        """The inputs as a table (columns ``source``, ``path``, ``reference_date``,
        ``credit``, ``sha256``)."""
        columns = ["source", "path", "reference_date", "credit", "sha256"]
        return pd.DataFrame(list(self.inputs), columns=columns)

    def __add__(self, other: Provenance) -> Provenance:
        seen = {i["path"]: i for i in self.inputs}
        for item in other.inputs:
            seen.setdefault(item["path"], item)
        return Provenance(self.dataset, tuple(seen.values()))


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """A loaded dataset and where it came from."""

    data: T
    provenance: Provenance


def check_dataset(dataset: str) -> str:
    """Return ``dataset`` if known, else raise ``ValueError`` naming the choices."""
    if dataset not in DATASETS:
        raise ValueError(
            f"dataset must be one of {', '.join(repr(d) for d in DATASETS)}, got {dataset!r}"
        )
    return dataset


def _load(dataset: str, loader: Callable[..., Any], *args, **kwargs) -> Loaded:
    with capture_inputs() as inputs:
        data = loader(*args, **kwargs)
    return Loaded(data, Provenance(dataset, tuple(dict(i) for i in inputs)))


def kreis_indicators(dataset: str, *, root: str | Path | None = None) -> Loaded[pd.DataFrame]:
    """One row per current Kreis with the regional indicators.

    Wraps :func:`analysis.regions.load_kreis_indicators` (see there for the columns and
    ``attrs``).

    Parameters
    ----------
    dataset : {"demo", "official"}
    root : path, optional
        Dataset root to read instead (e.g. the shared mirror's parent).

    Returns
    -------
    Loaded
        ``data``: DataFrame sorted by ``ags``.
    """
    from analysis.regions import load_kreis_indicators

    check_dataset(dataset)
    return _load(dataset, load_kreis_indicators, dataset, root=root)


def kreis_geometry(dataset: str) -> Loaded[pd.DataFrame | None]:
    """Kreis polygons (lon/lat), ``data`` None when the dataset has no boundary file.

    Wraps :func:`analysis.geometry.load_kreis_geometry`.
    """
    from analysis.geometry import load_kreis_geometry

    check_dataset(dataset)
    return _load(dataset, load_kreis_geometry, dataset)


def firms(dataset: str, kreis_codes: Iterable[str], *, weight: pd.Series | None = None) -> Loaded:
    """The Hidden Champion firm list, read and placed in Kreise.

    Wraps :func:`analysis.champions.load_firms`; ``data`` is its ``LocatedFirms``.

    Parameters
    ----------
    dataset : {"demo", "official"}
    kreis_codes : iterable of str
        The current Kreis codes (``kreis_indicators(dataset).data["ags"]``).
    weight : Series, optional
        Population per Gemeinde (``ags8``) for splitting postcodes across Kreise.
    """
    from analysis.champions import load_firms

    check_dataset(dataset)
    return _load(dataset, load_firms, dataset, kreis_codes, weight=weight)


def crm(dataset: str, **options) -> Loaded:
    """The dataset's Salesforce (and Pardot) exports, privacy-filtered.

    Wraps :func:`analysis.sources.crm.salesforce.load_crm` on ``<dataset>/crm``;
    ``options`` are passed on (``key``, ``encoding``, ``org_currency``…). ``data`` is
    its ``CrmData``.
    """
    from analysis.paths import dataset_dir
    from analysis.sources.crm.salesforce import load_crm

    check_dataset(dataset)
    return _load(dataset, load_crm, dataset_dir(dataset) / "crm", **options)


def plz(dataset: str, path: str | Path | None = None) -> Loaded[pd.DataFrame]:
    """The postcode → Kreis mapping of the dataset.

    Wraps :func:`analysis.sources.official.plz.read_plz`.

    Parameters
    ----------
    dataset : {"demo", "official"}
    path : path, optional
        The mapping file (default: the dataset's ``official/plz_osm`` file, the one
        :func:`firms` places the firm list with).

    Raises
    ------
    InputError
        When the dataset has no mapping file.
    """
    from analysis.errors import InputError
    from analysis.paths import dataset_dir
    from analysis.sources.official.catalogue import local_path
    from analysis.sources.official.plz import read_plz

    check_dataset(dataset)
    if path is None:
        official = dataset_dir(dataset) / "official"
        path = local_path("plz-osm", official)
        if path is None:
            raise InputError(
                official / "plz_osm",
                "expected the PLZ → Kreis mapping zuordnung_plz_ort.csv (workbook data "
                "fetch --only plz-osm, or workbook demo)",
            )
    return _load(dataset, read_plz, path)


def gemeinde_coordinates(dataset: str, *, root: str | Path | None = None) -> Loaded:
    """Gemeinde coordinates and population (GV-ISys); ``data`` None on the demo.

    Wraps :func:`analysis.market.proximity.load_gemeinde_coordinates`.
    """
    from analysis.market.proximity import load_gemeinde_coordinates

    check_dataset(dataset)
    return _load(dataset, load_gemeinde_coordinates, dataset, root=root)


def demo_truth(dataset: str, part: str) -> Loaded[dict | None]:
    """What the demo generator injected (part of ``TRUTH.json``); ``data`` None otherwise.

    Parameters
    ----------
    dataset : {"demo", "official"}
        Official data have no injected truth: ``data`` is None.
    part : {"regions", "firms", "crm"}

    Returns
    -------
    Loaded
        ``data``: the part's dict (e.g. ``{"hc_mint_elasticity": 0.45, ...}``) or None.

    Raises
    ------
    ValueError
        For an unknown part.
    """
    from analysis.paths import dataset_dir, project_root

    check_dataset(dataset)
    if part not in TRUTH_PARTS:
        raise ValueError(f"part must be one of {', '.join(TRUTH_PARTS)}, got {part!r}")
    path = dataset_dir("demo") / "TRUTH.json"
    if dataset != "demo" or not path.is_file():
        return Loaded(None, Provenance(dataset))
    try:
        shown = str(path.resolve().relative_to(project_root()))
    except ValueError:
        shown = str(path)
    entry = {
        "path": shown,
        "sha256": sha256_file(path),
        "source": "Demo generator: injected truths",
        "credit": "",
        "reference_date": "",
    }
    truth = json.loads(path.read_text(encoding="utf-8")).get(part)
    return Loaded(truth, Provenance(dataset, (entry,)))


def gemeinde_population(coordinates: Loaded) -> pd.Series | None:
    """Population per Gemeinde (``ags8``) from :func:`gemeinde_coordinates`, or None.

    The weights for splitting postcodes that span several Kreise
    (``firms(..., weight=...)``, ``analysis.market.locate_accounts``).
    """
    if coordinates.data is None:
        return None
    return coordinates.data.set_index("ags8")["population"]
