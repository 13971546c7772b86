"""Render an executed notebook into a self-contained, offline HTML report page.

The page comes from nbconvert's template mechanism: the template
``templates/workbook_report`` extends nbconvert's classic/basic HTML template (the
cell rendering), hides all code and prompts, and wraps the cells in the workbook's
page chrome (``templates/workbook/chrome.html.j2``): a header with the title, the demo
banner, the data provenance, the run time, the commit and the parameters, and a footer
with the sources. Every text of the chrome comes from the message catalogue
(:mod:`analysis.present.i18n`) in the report's language (the notebook parameter
``language``, German by default), numbers and dates are formatted by Babel, and the
page says ``<html lang="de">`` or ``"en"``. Images are base64 inside the notebook, so
the page has no external references at all; each carries its alt text.

Besides the page, :func:`write_page_assets` writes what the index shows of a report
(``card.json`` and ``thumbnail.png``); :mod:`analysis.report.pdf` prints the page.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path

from analysis.present import i18n
from analysis.present.narrative import SUMMARY_MIME, TITLE_MIME

#: The folder of the Jinja2 templates (report page, index, shared chrome and CSS).
TEMPLATES = Path(__file__).with_name("templates")
#: The nbconvert template of the report page (a folder under :data:`TEMPLATES`).
REPORT_TEMPLATE = "workbook_report"
#: Cells tagged like this show no input even where the exporter would (belt and braces).
_REMOVE_INPUT_TAGS = ("parameters", "injected-parameters", "remove-input")
#: The summary output of a report (``analysis.present.narrative.summary``).
_SUMMARY_MARK = 'class="wb-summary"'
#: Width in pixels of the index thumbnail.
THUMBNAIL_WIDTH = 360
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_IN_TEXT = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def report_language(parameters: Mapping[str, object] | None) -> str:
    """The language of a report: its ``language`` parameter, else the default (``de``).

    Raises
    ------
    ValueError
        For a language the catalogue does not have.
    """
    language = (parameters or {}).get("language") or i18n.DEFAULT_LANGUAGE
    return i18n.check_language(str(language))


def _shown_cells(nb):
    """The cells a reader sees (not tagged ``remove-cell``: an analyst's notes)."""
    return [c for c in nb.cells if "remove-cell" not in c.metadata.get("tags", [])]


def _title_output(nb) -> dict | None:
    """The report's title output (``narrative.title``: ``TITLE_MIME``), if any."""
    for cell in _shown_cells(nb):
        for output in cell.get("outputs", []):
            if TITLE_MIME in output.get("data", {}):
                return output["data"][TITLE_MIME]
    return None


def _markdown_sources(nb):
    """Markdown texts a reader sees, in reading order: markdown cells and outputs."""
    for cell in _shown_cells(nb):
        if cell.cell_type == "markdown":
            yield cell.source
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                text = output.get("data", {}).get("text/markdown")
                if text:
                    yield "".join(text) if isinstance(text, list) else text


def notebook_title(nb, default: str) -> str:
    """The report's title: its title output, else its first level-1 heading, else ``default``."""
    shown = _title_output(nb)
    if shown and shown.get("title"):
        return str(shown["title"])
    for text in _markdown_sources(nb):
        match = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
        if match:
            return match.group(1).strip()
    return default


def notebook_question(nb) -> str:
    """The question a report answers: from its title output, else the paragraph after its title."""
    shown = _title_output(nb)
    if shown is not None:
        return str(shown.get("question") or "")
    for text in _markdown_sources(nb):
        match = re.search(r"^#\s+.+$", text, flags=re.MULTILINE)
        if not match:
            continue
        for paragraph in re.split(r"\n\s*\n", text[match.end() :]):
            line = paragraph.strip()
            if line and not line.startswith(("#", "-", "*", "|", "<")):
                plain = re.sub(r"[*_`]", "", " ".join(line.split()))
                return plain[:400]
        return ""
    return ""


def parameter_help(nb) -> dict[str, str]:
    """``name -> help comment`` from the notebook's ``parameters`` cell."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            found = re.findall(r"^(\w+)\s*:[^=\n]*=[^#\n]*#\s*(.+)$", cell.source, re.MULTILINE)
            return {name: text.strip() for name, text in found}
    return {}


def format_value(value: object, language: str) -> str:
    """A parameter value for readers: dates and numbers in the locale, lists joined."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        return i18n.fmt_date(value, language=language)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v, language) for v in value)
    if isinstance(value, float):
        return i18n.fmt_value(value, 3, language=language)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10_000:
        return str(value)  # a seed or a count of peers needs no separator
    return i18n.fmt_value(value, language=language)


def format_timestamp(iso: str | None, language: str) -> str:
    """An ISO UTC timestamp as ``03.12.2026, 14:05 UTC`` (de) or ``3 Dec 2026, 14:05 UTC``."""
    if not iso:
        return i18n.MISSING
    try:
        moment = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return f"{i18n.fmt_date(moment.date(), language=language)}, {moment:%H:%M} UTC"


def page_context(
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
) -> dict:
    """What the page chrome shows, formatted for the report's language.

    Parameters are as for :func:`render_report`.

    Returns
    -------
    dict
        ``language``, ``title``, ``question``, ``report``, ``demo``, ``failed``,
        ``error``, ``reference_dates``, ``started``, ``duration``, ``commit``,
        ``parameters`` (list of ``{name, label, value}``) and ``credits``.
    """
    language = report_language(parameters)
    helps = parameter_help(nb)
    shown = [
        {
            "name": name,
            "label": i18n.gettext(helps[name], language=language) if name in helps else name,
            "value": format_value(value, language),
        }
        for name, value in parameters.items()
    ]
    dates = sorted({str(s["reference_date"]) for s in sources if s.get("reference_date")})
    return {
        "language": language,
        "title": notebook_title(nb, report),
        # From the title output only: a notebook without one keeps its question in its
        # first markdown cell, which the page shows anyway.
        "question": notebook_question(nb) if _title_output(nb) is not None else "",
        "report": report,
        "demo": dataset == "demo",
        "failed": status != "ok",
        "error": error,
        "reference_dates": ", ".join(
            dict.fromkeys(
                _ISO_IN_TEXT.sub(lambda m: i18n.fmt_date(m.group(0), language=language), d)
                for d in dates
            )
        ),
        "started": format_timestamp(started_at, language),
        "duration": "–"
        if duration_s is None
        else f"{i18n.fmt_number(duration_s, 1, language=language)} s",
        "commit": (git_commit or "")[:12],
        "parameters": shown,
        "credits": sorted({s["credit"] for s in sources if s.get("credit")}),
    }


def prepare_notebook(nb):
    """A copy of ``nb`` laid out for readers.

    Drops what the page header already shows (the title and question, the demo banner)
    and lifts the management summary (``narrative.summary``) to the top, so the answer
    comes first on screen and on page 1 of the PDF.
    """
    from analysis.provenance import BANNER_MIME

    nb = copy.deepcopy(nb)
    title_from_output = _title_output(nb) is not None
    for cell in _shown_cells(nb):
        if cell.cell_type == "markdown" and not title_from_output:
            cell.source = re.sub(r"\A\s*#\s+[^\n]*\n?", "", cell.source, count=1)
            break
    summary = None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if BANNER_MIME in data or TITLE_MIME in data:
                continue
            html_text = "".join(data.get("text/html", ""))
            if summary is None and (SUMMARY_MIME in data or _SUMMARY_MARK in html_text):
                summary = output
                continue
            kept.append(output)
        cell.outputs = kept
    if summary is not None:
        import nbformat

        lifted = nbformat.v4.new_code_cell("", outputs=[summary])
        lifted.metadata["tags"] = ["remove-input"]
        lifted["id"] = "summary"
        nb.cells.insert(0, lifted)
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
        template_name=REPORT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        extra_template_paths=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    exporter.environment.add_extension("jinja2.ext.i18n")
    return exporter


def install_language(environment, language: str) -> None:
    """Make ``_``/``gettext``/``ngettext`` of a Jinja2 environment speak ``language``."""
    environment.install_gettext_translations(i18n.translations(language), newstyle=True)


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
        The parameter values of the run; ``language`` (``de``/``en``) sets the page's.
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
    context = page_context(
        nb,
        report=report,
        parameters=parameters,
        started_at=started_at,
        duration_s=duration_s,
        git_commit=git_commit,
        dataset=dataset,
        sources=sources,
        status=status,
        error=error,
    )
    exporter = _exporter()
    install_language(exporter.environment, context["language"])
    body, _ = exporter.from_notebook_node(prepare_notebook(nb), resources={"workbook": context})
    # Stable element ids: nbconvert writes the random nbformat cell ids into the page.
    counter = iter(range(1, 1_000_000))
    return re.sub(r'id="cell-id=[^"]*"', lambda _m: f'id="cell-{next(counter)}"', body)


def first_image(nb) -> bytes | None:
    """The PNG bytes of the first figure of a report (after the summary), or ``None``."""
    import base64

    for cell in prepare_notebook(nb).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("image/png")
            if data:
                return base64.b64decode("".join(data) if isinstance(data, list) else data)
    return None


def thumbnail(png: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """A PNG scaled down to ``width`` pixels (kept as it is when already narrower)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        image = image.convert("RGB")
        if image.width > width:
            height = max(1, round(image.height * width / image.width))
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def shown_figures(nb) -> dict[str, dict[str, str]]:
    """``figure name -> {label, text}`` as the report shows its key figures (its language)."""
    import html as html_module

    from analysis.provenance import RECORD_MIME

    shown: dict[str, dict[str, str]] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIME not in data:
                continue
            markup = "".join(data.get("text/html", ""))
            label = re.search(r'class="wb-record-label">([^<]*)<', markup)
            value = re.search(r'class="wb-record-value">([^<]*)<', markup)
            for name in data[RECORD_MIME]:
                shown[name] = {
                    "label": html_module.unescape(label.group(1)) if label else "",
                    "text": html_module.unescape(value.group(1)) if value else "",
                }
    return shown


def report_card(nb, *, report: str, parameters: Mapping[str, object]) -> dict:
    """What the index shows of one report: title, question, language, its key figures."""
    return {
        "title": notebook_title(nb, report),
        "question": notebook_question(nb),
        "language": report_language(parameters),
        "figures": shown_figures(nb),
    }


def write_page_assets(nb, folder: str | Path, *, report: str, parameters: Mapping) -> list[str]:
    """Write ``card.json`` and (when the report has a figure) ``thumbnail.png`` into a run folder.

    The runner calls this beside :func:`render_report` (or :func:`analysis.report.index.
    publish_pages` does afterwards from the executed notebook); the index reads both.

    Returns
    -------
    list of str
        The names of the files written.
    """
    folder = Path(folder)
    card = report_card(nb, report=report, parameters=parameters)
    (folder / "card.json").write_text(
        json.dumps(card, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    written = ["card.json"]
    png = first_image(nb)
    if png is not None:
        (folder / "thumbnail.png").write_bytes(thumbnail(png))
        written.append("thumbnail.png")
    return written
