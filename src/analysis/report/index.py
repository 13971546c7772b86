"""``reports/index.html``: the readers' front page, from a Jinja2 template.

Each report appears with its title, the question it answers, its headline figures
(from the manifest ``figures`` of the last good run, formatted for the locale and
labelled as the report labels them), its status, its date and a thumbnail (the first
figure of the report); a grid (one profile per Kreis, …) becomes a searchable,
filterable set of cards (an inline script, no external one). Runs, logs, manifests and
executed notebooks are one click deeper, under "For maintainers".

The page is rendered from the store's state (``index.json``). What the state does not
hold, the run folders do: ``card.json`` and ``thumbnail.png`` written at publish time
by :func:`analysis.report.html.write_page_assets`, and ``report.pdf`` beside
``report.html``. :func:`render_index` reads them when it is given the reports folder;
:func:`publish_pages` writes whatever is missing (cards, thumbnails, PDFs) for the
last good run of every report and renders the index again.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
from collections import Counter
from pathlib import Path

from analysis.present import i18n
from analysis.report.html import TEMPLATES, format_timestamp, format_value, install_language

log = logging.getLogger(__name__)

#: Headline figures shown per report on the index.
HEADLINE_FIGURES = 3
#: Runs listed per report under "For maintainers".
RUNS_LISTED = 10
_CI_SUFFIXES = ("_ci_low", "_ci_high")


def _status_labels(language: str) -> dict[str, str]:
    def t(message: str) -> str:
        return i18n.gettext(message, language=language)

    return {
        "ok": t("up to date"),
        "cached": t("up to date (inputs unchanged)"),
        "failed": t("failed"),
        "skipped": t("skipped: inputs missing"),
        "interrupted": t("interrupted"),
    }


@functools.lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=64)
def _source_notebook(path: str, mtime: float) -> tuple[str, str, dict[str, str]]:
    """Title, question and parameter help of a report notebook's source (cached)."""
    import nbformat

    from analysis.report.html import notebook_question, notebook_title, parameter_help

    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return "", "", {}
    # The source has no outputs: its analysts' notes (remove-cell) are the best there is
    # until a run's card says how the report titles itself.
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        cell.metadata["tags"] = [t for t in tags if t != "remove-cell"]
    return notebook_title(nb, ""), notebook_question(nb), parameter_help(nb)


def _source_info(notebook: str | None) -> tuple[str, str, dict[str, str]]:
    if not notebook:
        return "", "", {}
    from analysis.paths import project_root

    path = project_root() / notebook
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return "", "", {}
    return _source_notebook(str(path), mtime)


def figure_text(value: object, language: str) -> str:
    """A key figure from the manifest for the index, in the locale's format.

    Whole numbers get thousands separators and no decimals (``83.577.140``); other
    numbers keep about two significant digits below 10 (``0,45``, ``0,079``, ``2,35``),
    one decimal below 100 and none above; text stays as it is.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return i18n.fmt_value(value, language=language)
    if not math.isfinite(value):
        return i18n.MISSING
    magnitude = abs(value)
    if float(value).is_integer():
        return i18n.fmt_int(value, language=language)
    if magnitude >= 100:
        decimals = 0
    elif magnitude >= 10:
        decimals = 1
    elif magnitude >= 1:
        decimals = 2
    else:
        decimals = 1 - math.floor(math.log10(magnitude))
    return i18n.fmt_number(value, decimals, language=language)


def _figure_views(figures: dict, card: dict, language: str) -> list[dict]:
    """The headline figures of a run: label and text, with the 95 % interval beside."""
    shown = card.get("figures") or {}
    views = []
    for name, value in figures.items():
        if name.endswith(_CI_SUFFIXES) or value is None or isinstance(value, (list, dict)):
            continue
        known = shown.get(name) or {}
        label = known.get("label") or i18n.gettext(name.replace("_", " "), language=language)
        text = figure_text(value, language)
        low, high = figures.get(f"{name}_ci_low"), figures.get(f"{name}_ci_high")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)):
            interval = i18n.gettext("95 % interval", language=language)
            text += f" ({interval} {figure_text(low, language)} – {figure_text(high, language)})"
        views.append({"name": name, "label": label, "text": text})
        if len(views) == HEADLINE_FIGURES:
            break
    return views


def _changes(run: dict, language: str, limit: int = 5) -> list[str]:
    """The key figures of a run that moved beyond the plan's threshold."""
    out = []
    for change in (run.get("diff_flagged") or [])[:limit]:
        old, new = change.get("old"), change.get("new")
        rel = change.get("rel_change")
        text = (
            f"{change.get('name')}: {format_value(old, language)} → {format_value(new, language)}"
        )
        if isinstance(rel, (int, float)):
            sign = "+" if (change.get("abs_change") or 0) >= 0 else "−"
            text += f" ({sign}{i18n.fmt_percent(abs(rel), 1, language=language)})"
        out.append(text)
    return out


def _links(entry: dict, last: dict, language: str, root: Path | None) -> list[dict]:
    """Maintainers' links: the last good run's files, the last run's log, every run."""

    def t(message: str) -> str:
        return i18n.gettext(message, language=language)

    base = f"{entry['report']}/{entry['slug']}"
    links = []
    good = entry.get("last_good")
    if good:
        links.append({"href": f"{base}/runs/{good}/manifest.json", "label": t("manifest")})
        links.append(
            {"href": f"{base}/runs/{good}/executed.ipynb", "label": t("executed notebook")}
        )
    run_base = f"{base}/runs/{last.get('run_id')}"
    # Older index entries have no file list: assume the usual files are there.
    files = set(last.get("files") or ("executed.ipynb", "run.log", last.get("html") or ""))
    if last.get("status") == "failed":
        if "executed.ipynb" in files:
            links.append({"href": f"{run_base}/executed.ipynb", "label": t("partial notebook")})
        if last.get("html") and last["html"] in files:
            links.append({"href": f"{run_base}/{last['html']}", "label": t("partial page")})
    if last.get("run_id") and "run.log" in files:
        links.append({"href": f"{run_base}/run.log", "label": t("log of the last run")})
    for run in reversed(entry.get("runs", [])[-RUNS_LISTED:]):
        if run is last or not run.get("run_id"):
            continue
        when = format_timestamp(run.get("started_at"), language)
        links.append(
            {
                "href": f"{base}/runs/{run['run_id']}/manifest.json",
                "label": f"{t('earlier run')} {when} ({run.get('status', '?')})",
            }
        )
    return links


def _entry_view(key: str, entry: dict, varying: list[str], page: dict, root: Path | None):
    language = page["language"]
    runs = entry.get("runs", [])
    last = runs[-1] if runs else {}
    status = entry.get("status", last.get("status", "?"))
    parameters = entry.get("parameters") or {}
    base = f"{entry['report']}/{entry['slug']}"
    good = entry.get("last_good")
    good_run = next((r for r in reversed(runs) if r.get("run_id") == good), None) or {}
    run_dir = root / entry["report"] / entry["slug"] / "runs" / good if root and good else None
    card = _read_json(run_dir / "card.json") if run_dir else {}
    source_title, _question, helps = _source_info(entry.get("notebook"))
    good_files = set(good_run.get("files") or ())
    has_thumb = "thumbnail.png" in good_files or bool(
        run_dir and (run_dir / "thumbnail.png").is_file()
    )
    has_pdf = bool(root and (root / base / "report.pdf").is_file())
    subtitle = " · ".join(
        f"{i18n.gettext(helps.get(name, name), language=language)}: "
        f"{format_value(parameters.get(name), language)}"
        for name in varying
    )
    title = card.get("title") or source_title or entry["report"]
    entry_language = str(parameters.get("language") or card.get("language") or "")
    labels = _status_labels(language)
    if status == "skipped":
        note, error = str(entry.get("skip_reason", ""))[:300], ""
    else:
        note, error = (
            "",
            str(last.get("error") or "")[:300] if last.get("status") == "failed" else "",
        )
    when = last.get("started_at") or entry.get("checked_at")
    view = {
        "key": key,
        "title": title,
        "subtitle": subtitle,
        "status": status,
        "status_label": labels.get(status, status),
        "date": i18n.fmt_date(when, language=language) if when else "",
        "demo": parameters.get("dataset") == "demo",
        "language": entry_language,
        "language_tag": entry_language.upper()
        if entry_language and entry_language != language
        else "",
        "href": f"{base}/report.html" if good else "",
        "pdf": f"{base}/report.pdf" if has_pdf else "",
        "thumbnail": f"{base}/runs/{good}/thumbnail.png" if good and has_thumb else "",
        "thumb_width": 240,
        "thumb_height": 135,
        "figures": _figure_views(good_run.get("figures") or {}, card, language) if good else [],
        "note": note,
        "error": error,
        "changes": _changes(last, language) if last.get("status") == "ok" else [],
        "links": _links(entry, last, language, root),
        "n_runs": len(runs),
        "duration": ""
        if last.get("duration_s") is None
        else f"{i18n.fmt_number(last['duration_s'], 1, language=language)} s",
        "parameters": json.dumps(parameters, ensure_ascii=False, sort_keys=True),
    }
    view["search"] = " ".join(
        [title, subtitle, entry["report"], view["status_label"], *map(str, parameters.values())]
    ).lower()
    return view


def index_language(state: dict) -> str:
    """The language most reports of the state are in (``de`` when none says).

    Reports whose notebook has no ``language`` parameter do not vote.
    """
    found = Counter(
        str(e["parameters"]["language"])
        for e in state.get("entries", {}).values()
        if (e.get("parameters") or {}).get("language")
    )
    for language, _n in found.most_common():
        if language in i18n.LANGUAGES:
            return language
    return i18n.DEFAULT_LANGUAGE


def _group_title(entries: list[tuple[str, dict]], root: Path | None) -> tuple[str, str]:
    """Title and question of a report: as a run shows them (its card), else its notebook's."""
    entry = entries[0][1]
    title = question = ""
    if root and entry.get("last_good"):
        card = _read_json(
            root / entry["report"] / entry["slug"] / "runs" / entry["last_good"] / "card.json"
        )
        title, question = card.get("title", ""), card.get("question", "")
    if not title:
        title, question, _helps = _source_info(entry.get("notebook"))
    return title or entry["report"], question


def index_context(state: dict, root: Path | None = None, language: str | None = None) -> dict:
    """Everything the index template shows (see ``templates/index.html.j2``)."""
    language = i18n.check_language(language or index_language(state))
    page: dict = {"language": language}
    by_report: dict[str, list[tuple[str, dict]]] = {}
    for key, entry in sorted(state.get("entries", {}).items()):
        by_report.setdefault(entry["report"], []).append((key, entry))
    groups = []
    for report, entries in sorted(
        by_report.items(), key=lambda item: (str(item[1][0][1].get("notebook") or ""), item[0])
    ):
        params = [e.get("parameters") or {} for _k, e in entries]
        names = sorted({n for p in params for n in p})
        varying = [n for n in names if len({json.dumps(p.get(n), default=str) for p in params}) > 1]
        title, question = _group_title(entries, root)
        views = [_entry_view(k, e, varying, page, root) for k, e in entries]
        if len(views) > 1:
            views.sort(key=lambda v: (v["title"], v["subtitle"]))
        note = i18n.ngettext(
            "{n} parameter set", "{n} parameter sets", len(views), language=language
        ).format(n=i18n.fmt_int(len(views), language=language))
        groups.append(
            {
                "report": report,
                "title": title,
                "question": question,
                "entries": views,
                "grid_note": note,
            }  # fmt: skip
        )
    labels = _status_labels(language)
    counts = Counter(v["status"] for g in groups for v in g["entries"])
    total = sum(counts.values())
    head = i18n.ngettext("{n} report", "{n} reports", total, language=language).format(
        n=i18n.fmt_int(total, language=language)
    )
    parts = [
        f"{i18n.fmt_int(n, language=language)} {labels.get(s, s)}"
        for s, n in sorted(counts.items())
    ]
    page.update(
        groups=groups,
        summary=f"{head}: {', '.join(parts)}" if parts else head,
        status_labels=[(s, labels.get(s, s)) for s in sorted(counts)],
        count_template=i18n.gettext("{shown} of {total} shown", language=language),
    )
    return page


def render_index(state: dict, root: Path | None = None, language: str | None = None) -> str:
    """Render the index page from the store's state (see ``ReportStore``).

    Parameters
    ----------
    state : dict
        ``{"entries": {key: entry}}`` as in ``index.json``.
    root : Path, optional
        The reports folder: when given, the run folders' ``card.json``, ``thumbnail.png``
        and ``report.pdf`` are used (titles and labels as the report shows them).
    language : str, optional
        The page's language (default: the language most reports are in).

    Returns
    -------
    str
        The HTML document.
    """
    page = index_context(state, root, language)
    environment = _environment()
    install_language(environment, page["language"])
    return environment.get_template("index.html.j2").render(page=page)


@contextlib.contextmanager
def _folder_lock(root: Path):
    """The reports folder's run lock (``.lock``), so pages are not written during a run."""
    import fcntl

    from analysis.errors import InputError

    with open(root / ".lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                root, "a `workbook report` is writing to this folder; try again when it ends"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish_pages(root: str | Path, *, pdf: bool = False, language: str | None = None) -> dict:
    """Complete the readers' pages of a reports folder and render its index.

    For the last good run of every report and parameter set: writes ``card.json`` and
    ``thumbnail.png`` into the run folder when missing (from its executed notebook) and,
    with ``pdf``, ``report.pdf`` beside ``report.html`` when missing or older than the
    page. Then writes ``index.html`` with all of it.

    Parameters
    ----------
    root : str or Path
        The reports folder (with ``index.json``).
    pdf : bool
        Also print every report to PDF (see :func:`analysis.report.pdf.write_pdf`).
    language : str, optional
        The index's language (default: the language most reports are in).

    Returns
    -------
    dict
        Counts ``cards`` (written), ``pdf`` (written) and ``pdf_failed``, and a
        ``message`` for the user when PDFs were asked for (the missing engine, or counts).

    Raises
    ------
    InputError
        When a report run holds the folder's lock.
    """
    import nbformat

    from analysis.report.html import write_page_assets
    from analysis.report.pdf import NO_ENGINE, find_chromium, write_pdf

    root = Path(root)
    counts: dict = {"cards": 0, "pdf": 0, "pdf_failed": 0, "message": ""}
    if not (root / "index.json").is_file():
        return counts
    if pdf and find_chromium() is None:
        counts["message"], pdf = NO_ENGINE, False
    with _folder_lock(root):
        state = _read_json(root / "index.json") or {"entries": {}}
        for entry in state.get("entries", {}).values():
            good = entry.get("last_good")
            if not good:
                continue
            folder = root / entry["report"] / entry["slug"]
            run_dir = folder / "runs" / good
            executed = run_dir / "executed.ipynb"
            if not (run_dir / "card.json").is_file() and executed.is_file():
                # A card is a convenience: an unreadable notebook leaves the index as it was.
                try:
                    nb = nbformat.read(executed, as_version=4)
                    write_page_assets(
                        nb,
                        run_dir,
                        report=entry["report"],
                        parameters=entry.get("parameters") or {},
                    )
                    counts["cards"] += 1
                except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds
                    log.warning("no card for %s: %s: %s", run_dir, type(exc).__name__, exc)
            page, printed = folder / "report.html", folder / "report.pdf"
            if pdf and page.is_file():
                fresh = printed.is_file() and printed.stat().st_mtime >= page.stat().st_mtime
                if not fresh:
                    ok = write_pdf(page, printed)
                    counts["pdf" if ok else "pdf_failed"] += 1
        text = render_index(state, root, language)
        tmp = root / f".index.html.{os.getpid()}.tmp"
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, root / "index.html")
        except OSError as exc:  # a full disk: the run's own index.html stays
            tmp.unlink(missing_ok=True)
            log.warning("index.html not rewritten with cards: %s", exc)
    if pdf:
        counts["message"] = f"pdf: {counts['pdf']} written, {counts['pdf_failed']} failed"
    return counts
