"""Reader for the PLZ → Gemeinde → Kreis mapping (OpenStreetMap, suche-postleitzahl.org).

The file ``zuordnung_plz_ort.csv`` has one row per (PLZ, Gemeinde) with the
columns ``osm_id,ags,ort,plz,landkreis,bundesland``. Copies that went through a
spreadsheet lost their leading zeros (``1067`` for PLZ ``01067``, a 7-digit AGS
for Länder 01-09); the reader restores them and checks that each AGS belongs to
the Land named in the row, which is what makes zero-padding safe.

A PLZ can span several Gemeinden and several Kreise; :func:`analysis.territory.
allocate_plz` turns that into shares.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.lands import LAND_NAMES
from analysis.sources.official.catalogue import note_catalogued

PLZ_COLUMNS = ("plz", "ags8", "kreis_ags", "ort", "bundesland")


# Header variants: the OSM download, and the mirror's derived table with padded keys.
_VARIANTS = {
    "osm": {"plz": "plz", "ags": "ags", "ort": "ort", "bundesland": "bundesland"},
    "derived": {"plz": "plz", "ags": "ags8", "ort": "ort", "bundesland": "bundesland"},
}


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(path, "empty file, expected a CSV with header osm_id,ags,ort,plz,...")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path, f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x}", line=line
        ) from None


def read_plz(path: str | Path) -> pd.DataFrame:
    """Read the PLZ → Gemeinde mapping with zero-padded keys.

    Parameters
    ----------
    path : str or Path
        ``zuordnung_plz_ort.csv`` (columns ``osm_id,ags,ort,plz,landkreis,
        bundesland``; leading zeros may be lost) or the same table with padded
        keys (columns ``plz,ags8,...,ort,...,bundesland``).

    Returns
    -------
    DataFrame
        Columns ``plz`` (5 digits), ``ags8`` (8-digit Gemeinde key), ``kreis_ags``
        (its first 5 digits), ``ort``, ``bundesland``; one row per distinct
        (plz, ags8), in file order. ``attrs["path"]``, ``attrs["n_rows_read"]``
        and ``attrs["n_duplicates"]`` (repeated (plz, ags8) pairs folded) are set.

    Raises
    ------
    InputError
        Missing columns, a PLZ that is not 4-5 digits, an AGS that is not 7-8
        digits, an AGS whose Land does not match the ``bundesland`` column, or a
        row with the wrong number of fields; the message names file, line and
        column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(path, "empty file", line=1) from None
    variant = next(
        (name for name, cols in _VARIANTS.items() if all(c in header for c in cols.values())),
        None,
    )
    if variant is None:
        raise InputError(
            path,
            f"expected a header with plz, ags (or ags8), ort, bundesland; found {','.join(header)}",
            line=1,
        )
    index = {key: header.index(col) for key, col in _VARIANTS[variant].items()}
    names = {key: _VARIANTS[variant][key] for key in index}

    plz, ags8, ort, land = [], [], [], []
    # csv.reader tracks physical lines (quoted fields may span lines).
    for fields in reader:
        line = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != len(header):
            raise InputError(
                path,
                f"expected {len(header)} fields, found {len(fields)}",
                line=line,
            )
        code, key, place, state = _parse_row(fields, index, names, path, line)
        plz.append(code)
        ags8.append(key)
        ort.append(place)
        land.append(state)
    if not plz:
        raise InputError(path, "no data rows after the header", line=2)

    frame = pd.DataFrame({"plz": plz, "ags8": ags8, "ort": ort, "bundesland": land}, dtype="str")
    n_read = len(frame)
    frame = (
        frame.drop_duplicates(["plz", "ags8"])
        .assign(kreis_ags=lambda f: f["ags8"].str.slice(0, 5))
        .reset_index(drop=True)
    )[list(PLZ_COLUMNS)]
    frame.attrs = {
        "path": str(path),
        "n_rows_read": n_read,
        "n_duplicates": n_read - len(frame),
    }
    note_catalogued(
        path,
        source="PLZ → Gemeinde mapping (OpenStreetMap)",
        credit="© OpenStreetMap contributors (ODbL)",
    )
    return frame


def _parse_row(
    fields: list[str], index: dict[str, int], names: dict[str, str], path: Path, line: int
) -> tuple[str, str, str, str]:
    """Validated (plz, ags8, ort, bundesland) of one data row, keys zero-padded."""
    code = fields[index["plz"]].strip()
    if not (code.isdigit() and len(code) in (4, 5)):
        raise InputError(
            path,
            f"expected a postcode of 5 digits (4 if the leading zero was lost), found {code!r}",
            line=line,
            column=names["plz"],
        )
    code = code.zfill(5)
    if code.startswith("00"):
        raise InputError(
            path,
            f"expected a German postcode (01001-99998), found {code!r}",
            line=line,
            column=names["plz"],
        )
    key = fields[index["ags"]].strip()
    if not (key.isdigit() and len(key) in (7, 8)):
        raise InputError(
            path,
            f"expected an 8-digit Gemeinde key (7 if the leading zero was lost), found {key!r}",
            line=line,
            column=names["ags"],
        )
    key = key.zfill(8)
    state = fields[index["bundesland"]].strip()
    expected = LAND_NAMES.get(key[:2])
    if expected is None or (state and state != expected):
        raise InputError(
            path,
            f"Gemeinde key {key} belongs to Land {key[:2]} ({expected or 'unknown'}), "
            f"but the row says {state!r}",
            line=line,
            column=names["ags"],
        )
    return code, key, fields[index["ort"]].strip(), state or expected


#: Version of :func:`read_plz` in the prepared-inputs cache.
PLZ_READER_VERSION = 1


def read_plz_prepared(path: str | Path) -> pd.DataFrame:
    """:func:`read_plz` through the prepared-inputs cache (:mod:`analysis.prepared`).

    The same frame as :func:`read_plz`, read in milliseconds once the file has been
    parsed; the original file is noted for the report either way.
    """
    from analysis.prepared import read_prepared

    frame = read_prepared(Path(path), read_plz, version=PLZ_READER_VERSION)
    note_catalogued(
        path,
        source="PLZ → Gemeinde mapping (OpenStreetMap)",
        credit="© OpenStreetMap contributors (ODbL)",
    )
    return frame
