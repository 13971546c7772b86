"""The synthetic demo dataset: deterministic, in the real source formats.

``workbook demo [--seed N] [--out DIR]`` calls :func:`write_demo`. It builds the
fictional geography once (:func:`analysis.demo.geography.build_geography`) and hands
it to each part in :data:`PARTS`; a part is a module ``analysis.demo.<part>`` with

    write_part(out: Path, geo: Geography, seed: int) -> dict   # truths for TRUTH.json
    README_SECTION: str                                         # optional, for README.md

Each part draws its randomness from ``SeedSequence([seed, crc32(b"<part>")])`` (see
:func:`part_rng`), so adding or changing one part never changes another part's bytes.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import uuid
import zlib
from pathlib import Path

import numpy as np

#: Parts written in this order; every name is a module ``analysis.demo.<name>``.
PARTS: tuple[str, ...] = ("regions", "firms", "crm")

_MARKER = "TRUTH.json"

_README_HEAD = """\
# Demo dataset — synthetic demo data

Everything in this folder is **synthetic demo data**, written by the workbook's own
deterministic generator (`workbook demo --seed {seed}`). The places are fictional:
Kreis codes carry the real Land prefix but a third digit no real Kreis has used, the
names are invented, and no number is a real statistic, firm or customer. The files
have the formats of the real sources, so the same loaders read the demo and the
official data (`dataset = "demo"` vs `dataset = "official"`).

- Same seed, same bytes: re-running `workbook demo --seed {seed}` reproduces every file.
- `TRUTH.json` lists what the generator injected (relations, totals, special rows), so
  tests and notebooks can check that an analysis recovers it.
- Layout as `data/raw/`: `official/` (regional statistics, Kreis list, postcodes,
  geometry){more}.
- Showcase Kreise: `{region}` plays a mid-size university Landkreis in Niedersachsen
  ("our Göttingen"), `{compare}` the big kreisfreie Stadt of Bayern ("our München").

"""


def part_rng(seed: int, part: str) -> np.random.Generator:
    """The random generator of one demo part.

    Parameters
    ----------
    seed : int
        Seed of the demo dataset.
    part : str
        Part name, e.g. ``"firms"``.

    Returns
    -------
    numpy.random.Generator
        ``default_rng(SeedSequence([seed, crc32(part)]))``.
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(part.encode())]))


def _looks_like_demo(path: Path) -> bool:
    return (path / _MARKER).is_file() or not any(path.iterdir())


def write_demo(out: Path, seed: int = 1) -> Path:
    """Write the complete demo dataset into ``out``, replacing an older demo there.

    The dataset is written into a fresh folder beside ``out`` and swapped in only when
    every part succeeded, so a failed run leaves the previous demo intact.

    Parameters
    ----------
    out : Path
        Target folder (usually :func:`analysis.paths.demo_dir`).
    seed : int
        Seed; the same seed gives byte-identical files.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    analysis.errors.ParameterError
        If ``out`` exists and is not an earlier demo (no ``TRUTH.json``; an empty
        folder is fine) — the generator never deletes a folder it did not write.
    """
    from analysis.demo.geography import DEMO_COMPARE, DEMO_REGION, build_geography
    from analysis.errors import ParameterError

    out = Path(out).absolute()
    if out.exists() and (not out.is_dir() or not _looks_like_demo(out)):
        raise ParameterError(
            "out", f"{out} exists and is not a demo dataset (no {_MARKER}); not replacing it"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = out.parent / f".{out.name}.new-{tag}"
    retired = out.parent / f".{out.name}.old-{tag}"
    staging.mkdir()
    try:
        geo = build_geography(seed)
        truths: dict[str, object] = {"seed": int(seed)}
        sections = []
        for part in PARTS:
            module = importlib.import_module(f"analysis.demo.{part}")
            truths[part] = module.write_part(staging, geo, seed)
            section = getattr(module, "README_SECTION", "")
            if section:
                sections.append(section.rstrip("\n") + "\n")
        (staging / _MARKER).write_text(
            json.dumps(truths, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        more = "".join(f", `{p}/`" for p in ("firms", "crm") if (staging / p).is_dir())
        head = _README_HEAD.format(seed=seed, more=more, region=DEMO_REGION, compare=DEMO_COMPARE)
        (staging / "README.md").write_text(head + "\n".join(sections), encoding="utf-8")
        # swap: two renames on the same file system; the old tree is removed last
        if out.exists():
            out.rename(retired)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if retired.exists() and not out.exists():
            retired.rename(out)
        raise
    shutil.rmtree(retired, ignore_errors=True)
    return out
