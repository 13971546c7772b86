"""Render an executed notebook into a self-contained, offline HTML report.

The body comes from nbconvert's ``basic`` template (a fragment without scripts or
external styles) with all code hidden; the page around it is ours: a header with
the parameters, the data provenance, the run time and the git commit, and one
inline stylesheet. Images are already base64 inside the notebook, so the page has
no external references at all (a test checks that).
"""

from __future__ import annotations

import copy
import functools
import html
import re
from collections.abc import Mapping

_CSS = """
:root { --ink:#1f2430; --muted:#5b6270; --line:#d9dce3; --accent:#1d4e89; --warn:#fff4ce; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; background: #f6f7f9; }
main { max-width: 1080px; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: #fff; }
header.wb-header { border-bottom: 2px solid var(--accent); margin-bottom: 1.5rem; padding-bottom: .8rem; }
header.wb-header h1 { margin: .2rem 0 .4rem; font-size: 1.7rem; }
.wb-meta { display: flex; flex-wrap: wrap; gap: .3rem 1.6rem; color: var(--muted); font-size: .9rem; }
.wb-meta b { color: var(--ink); font-weight: 600; }
.wb-params { margin-top: .6rem; font-size: .88rem; }
.wb-params td, .wb-params th { padding: .15rem .6rem .15rem 0; border: 0; text-align: left; }
.wb-demo { background: var(--warn); border-left: 4px solid #c90; padding: .5rem .8rem; margin: .6rem 0; }
.wb-failed { background: #fde8e8; border-left: 4px solid #b3261e; padding: .5rem .8rem; margin: .6rem 0; }
h1, h2, h3 { line-height: 1.25; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
a.anchor-link { display: none; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: right; vertical-align: top; }
th { background: #f0f2f5; } td:first-child, th:first-child { text-align: left; }
.output_png img, .output_subarea img { max-width: 100%; height: auto; }
.output_stderr { display: none; }
pre { white-space: pre-wrap; font-size: .85rem; background: #f6f7f9; padding: .5rem; }
.wb-record { display: inline-block; margin: .15rem .6rem .15rem 0; padding: .25rem .6rem;
             border: 1px solid var(--line); border-radius: 4px; background: #fafbfc; }
.wb-record-label { color: var(--muted); }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--line);
         padding-top: .6rem; }
"""

_REMOVE_INPUT_TAGS = ("parameters", "injected-parameters", "remove-input")


def _without_header_duplicates(nb):
    """Drop what the page header already shows: the title line and the demo banner."""
    from analysis.notebook import BANNER_MIME

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\A\s*#\s+[^\n]*\n?", "", cell.source, count=1)
            break
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.get("outputs", []) if BANNER_MIME not in o.get("data", {})
            ]
    return nb


@functools.lru_cache(maxsize=1)
def _exporter():
    """One configured exporter per process: building it compiles templates (~0.3 s)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    config.TagRemovePreprocessor.remove_input_tags = set(_REMOVE_INPUT_TAGS)
    exporter = HTMLExporter(
        config=config,
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    return exporter


def _body(nb) -> str:
    body, _ = _exporter().from_notebook_node(_without_header_duplicates(nb))
    # Stable element ids: nbconvert writes the random nbformat cell ids into the page.
    counter = iter(range(1, 1_000_000))
    body = re.sub(r'id="cell-id=[^"]*"', lambda _m: f'id="cell-{next(counter)}"', body)
    return body


def notebook_title(nb, default: str) -> str:
    """The first level-1 heading of the notebook's first markdown cell, else ``default``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
            break
    return default


def _fmt(value: object) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False)


def render_report(
    nb,
    *,
    report: str,
    parameters: Mapping[str, object],
    started_at: str,
    duration_s: float | None,
    git_commit: str,
    dataset: str,
    sources: list[dict],
    status: str = "ok",
    error: str = "",
) -> str:
    """Render an executed notebook into a complete HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    report : str
        Report name (used when the notebook has no title).
    parameters : mapping
        The parameter values of the run.
    started_at : str
        ISO timestamp (UTC) of the run.
    duration_s : float or None
        Run time in seconds.
    git_commit : str
        Commit of the code that produced the report.
    dataset : str
        ``demo`` marks the page "synthetic demo data".
    sources : list of dict
        Inputs with ``source``, ``reference_date`` and ``credit``.
    status : str
        ``ok`` or ``failed`` (a failed page says so at the top).
    error : str
        The error of a failed run.

    Returns
    -------
    str
        The HTML document.
    """
    esc = html.escape
    title = notebook_title(nb, report)
    params_rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(_fmt(v))}</td></tr>" for k, v in parameters.items()
    )
    credits = sorted({s.get("credit", "") for s in sources if s.get("credit")})
    refdates = sorted({s.get("reference_date", "") for s in sources if s.get("reference_date")})
    provenance = (
        "synthetic demo data (generated by <code>workbook demo</code>)"
        if dataset == "demo"
        else "official and internal data under <code>data/raw/</code>"
    )
    demo_banner = (
        '<div class="wb-demo"><b>Synthetic demo data.</b> Every number in this report comes '
        "from the workbook's generated demo dataset, not from real statistics or customers.</div>"
        if dataset == "demo"
        else ""
    )
    failed_banner = (
        f'<div class="wb-failed"><b>This run failed.</b> {esc(error)}</div>'
        if status != "ok"
        else ""
    )
    duration = f"{duration_s:.1f} s" if duration_s is not None else "n/a"
    credit_html = "".join(f"<li>{esc(c)}</li>" for c in credits) or "<li>none recorded</li>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header class="wb-header">
<div class="wb-meta"><span>Champions Workbook report <b>{esc(report)}</b></span></div>
<h1>{esc(title)}</h1>
{demo_banner}{failed_banner}
<div class="wb-meta">
<span>Data: <b>{provenance}</b></span>
<span>Reference dates: <b>{esc(", ".join(refdates) or "n/a")}</b></span>
<span>Run: <b>{esc(started_at)}</b> ({esc(duration)})</span>
<span>Commit: <b>{esc(git_commit[:12] or "unknown")}</b></span>
</div>
<table class="wb-params"><tbody>{params_rows}</tbody></table>
</header>
{_body(nb)}
<footer>
<p>Sources and licences:</p><ul>{credit_html}</ul>
<p>Generated by the Champions Workbook. Code is hidden; the executed notebook and
<code>manifest.json</code> beside this page hold the full record of the run.</p>
</footer>
</main>
</body>
</html>
"""
