"""The report page, the index and the PDF: templates, language, formats, alt text."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from analysis.errors import InputError
from analysis.present import i18n
from analysis.report import html, index, pdf
from analysis.report.plan import load_plan

SUMMARY = (
    '<section class="wb-summary"><h2>Key findings</h2><ul><li>SUMMARY-MARK</li></ul></section>'
)


def _png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 90, 160)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _notebook(alt: str | None = "Bars: Göttingen leads") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'region: str = "03159"  # Kreis AGS to profile\n'
        'as_of: str = "2025-12-31"  # date of the export\n'
        'language: str = "de"  # de or en\n'
    )
    params.metadata["tags"] = ["parameters"]
    figure = nbformat.v4.new_output(
        "display_data",
        data={"image/png": _png(), "text/plain": alt or "<Figure>"},
        metadata={"image/png": {"alt": alt}} if alt else {},
    )
    record = nbformat.v4.new_output(
        "display_data",
        data={
            "application/x.workbook-record+json": {"population_total": 328028},
            "text/html": '<div class="wb-record"><span class="wb-record-label">Einwohner</span>: '
            '<b class="wb-record-value">328.028</b></div>',
            "text/plain": "population_total = 328028",
        },
    )
    summary = nbformat.v4.new_output("display_data", data={"text/html": SUMMARY})
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Regional profile Göttingen\n\nWhy should Göttingen become a MINT region?\n\n- a"
        ),
        params,
        nbformat.v4.new_code_cell("SECRET_CODE = 1", outputs=[figure, record]),
        nbformat.v4.new_markdown_cell("## Detail section"),
        nbformat.v4.new_code_cell("summary()", outputs=[summary]),
    ]
    return nb


def _render(nb=None, **parameters) -> str:
    return html.render_report(
        nb or _notebook(),
        report="region_profile",
        parameters={"region": "03159", "as_of": "2025-12-31", "dataset": "demo", **parameters},
        started_at="2026-12-03T14:05:09Z",
        duration_s=12.34,
        git_commit="0123456789abcdef",
        dataset="demo",
        sources=[{"credit": "© Statistische Ämter", "reference_date": "2024-12-31"}],
    )


def test_page_is_german_by_default_with_german_formats():
    page = _render()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="de">' in page
    assert "Synthetische Demodaten." in page and "Quellen und Lizenzen" in page
    assert "31.12.2024" in page and "31.12.2025" in page  # reference date, parameter
    assert "03.12.2026, 14:05 UTC (12,3 s)" in page
    assert "SECRET_CODE" not in page, "code is hidden"
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|https?://(?!www\.w3\.org)", page)


def test_chrome_escapes_what_it_shows():
    page = html.render_report(
        _notebook(),
        report="r",
        parameters={"segment": "<script>alert(1)</script>"},
        started_at="2026-12-03T14:05:09Z",
        duration_s=None,
        git_commit="",
        dataset="official",
        sources=[{"credit": "<b>Quelle</b>"}],
        status="failed",
        error="cell 3: <img src=x onerror=alert(1)>",
    )
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Quelle" not in page
    assert "&lt;script&gt;" in page and "Dieser Lauf ist fehlgeschlagen." in page


def test_page_in_english_on_request():
    page = _render(language="en")
    assert '<html lang="en">' in page and "Synthetic demo data." in page
    assert "31 Dec 2024" in page and "12.3 s" in page


def test_summary_comes_before_every_detail_and_images_carry_alt_text():
    page = _render()
    body = page.split('<div class="wb-body">', 1)[1]
    assert body.index("SUMMARY-MARK") < body.index("Why should Göttingen") < body.index("Detail")
    images = re.findall(r"<img[^>]*>", page)
    assert images and all('alt="Bars: Göttingen leads"' in i for i in images)


def test_title_and_question_from_the_title_output_show_once_in_the_header():
    from analysis.present.narrative import TITLE_MIME

    nb = _notebook()
    nb.cells[0].metadata["tags"] = ["remove-cell"]  # the analyst's notes
    nb.cells[0].source = "# Analyst's notes\n\nNot for readers."
    title = {"title": "Regionalprofil", "question": "Warum MINT?"}
    shown = nbformat.v4.new_output(
        "display_data",
        data={TITLE_MIME: title, "text/html": "<h1>Regionalprofil</h1>", "text/plain": "x"},
    )
    nb.cells[2].outputs.insert(0, shown)
    page = _render(nb)
    assert "<title>Regionalprofil</title>" in page and page.count("Regionalprofil") == 2
    assert '<p class="wb-question">Warum MINT?</p>' in page
    assert "Analyst" not in page


def test_an_image_without_alt_text_says_so_instead_of_passing_as_decoration():
    page = _render(_notebook(alt=None))
    assert 'alt="Abbildung ohne Textalternative"' in page


def test_page_title_and_card_come_from_the_executed_notebook(tmp_path):
    nb = _notebook()
    written = html.write_page_assets(
        nb, tmp_path, report="region_profile", parameters={"language": "de"}
    )
    assert written == ["card.json", "thumbnail.png"]
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["title"] == "Regional profile Göttingen"
    assert card["question"] == "Why should Göttingen become a MINT region?"
    assert card["figures"]["population_total"] == {"label": "Einwohner", "text": "328.028"}
    from PIL import Image

    with Image.open(tmp_path / "thumbnail.png") as thumb:
        assert thumb.width == html.THUMBNAIL_WIDTH and thumb.height == 270


def _templates_messages() -> set[str]:
    from jinja2.ext import babel_extract

    found = set()
    for path in html.TEMPLATES.rglob("*.j2"):
        with path.open("rb") as handle:
            for _line, _func, message, _comments in babel_extract(
                handle, ["_", "gettext", "ngettext"], [], {}
            ):
                found.update([message] if isinstance(message, str) else message)
    return found


def test_every_text_of_the_templates_and_the_index_has_a_german_text():
    from babel.messages.pofile import read_po

    messages = _templates_messages()
    assert "Synthetic demo data." in messages  # the extraction sees the templates
    # The index's own texts go through a local `t(...)` (test_i18n sees only `_`/gettext).
    source = Path(index.__file__).read_text(encoding="utf-8")
    messages |= set(re.findall(r'\bt\("([^"]+)"\)', source))
    assert "up to date" in messages
    po = i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with po.open("rb") as handle:
        translated = {
            m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.string
        }
    assert sorted(messages - translated) == []


def _state(figures: dict, n: int = 1, language: str = "de") -> dict:
    entries = {}
    for i in range(n):
        region = f"0315{i}"
        entries[f"profile/demo_{i}"] = {
            "report": "profile",
            "slug": f"demo_{i}",
            "notebook": "notebooks/01_region_profile.ipynb",
            "parameters": {"region": region, "dataset": "demo", "language": language},
            "status": "ok",
            "last_good": f"run{i}",
            "runs": [
                {
                    "run_id": f"run{i}",
                    "status": "ok",
                    "started_at": "2026-12-03T14:05:09Z",
                    "duration_s": 3.0,
                    "figures": figures,
                    "files": ["executed.ipynb", "manifest.json", "run.log", "thumbnail.png"],
                }
            ],
        }
    return {"entries": entries}


def test_index_shows_headline_figures_in_the_locale_with_their_interval():
    figures = {
        "population_total": 83577140,
        "elasticity": 0.4537,
        "elasticity_ci_low": 0.374,
        "elasticity_ci_high": 0.534,
        "share": 0.0792,
    }
    page = index.render_index(_state(figures))
    assert '<html lang="de">' in page and "Berichte" in page
    assert "83.577.140" in page and "0,45 (95-%-Intervall 0,37 – 0,53)" in page
    assert "0,079" in page and "03.12.2026" in page and "aktuell" in page
    assert "profile/demo_0/runs/run0/thumbnail.png" in page
    assert "profile/demo_0/runs/run0/manifest.json" in page  # one click deeper
    english = index.render_index(_state(figures, language="en"))
    assert '<html lang="en">' in english and "83,577,140" in english


def test_index_groups_a_grid_into_searchable_cards():
    page = index.render_index(_state({"n": 1}, n=12))
    assert page.count('<li class="wb-card"') == 12 and "12 Parametersätze" in page
    assert 'id="wb-search"' in page and 'loading="lazy"' in page
    assert "<script src" not in page and "03159" in page


def test_publish_pages_writes_cards_and_thumbnails_then_the_index(tmp_path, monkeypatch):
    state = _state({"population_total": 328028})
    state["entries"]["profile/demo_0"]["runs"][0]["files"] = ["executed.ipynb"]
    run_dir = tmp_path / "profile" / "demo_0" / "runs" / "run0"
    run_dir.mkdir(parents=True)
    nbformat.write(_notebook(), run_dir / "executed.ipynb")
    (run_dir.parent.parent / "report.html").write_text(_render())
    (tmp_path / "index.json").write_text(json.dumps(state))
    monkeypatch.setenv("PATH", str(tmp_path))  # no Chromium: no PDF, a clear message
    monkeypatch.delenv("WORKBOOK_CHROMIUM", raising=False)

    done = index.publish_pages(tmp_path, pdf=True)

    assert done["cards"] == 1 and "no headless Chromium" in done["message"]
    assert (run_dir / "thumbnail.png").is_file() and not (
        run_dir.parent.parent / "report.pdf"
    ).exists()
    page = (tmp_path / "index.html").read_text()
    assert "Regional profile Göttingen" in page and "runs/run0/thumbnail.png" in page
    assert "Einwohner" in page and "328.028" in page
    assert index.publish_pages(tmp_path / "nothing-here") == {
        "cards": 0, "pdf": 0, "pdf_failed": 0, "message": ""}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "de", "en"),
    [(328028, "328.028", "328,028"), (942.0, "942", "942"), (54.0, "54", "54"),
     (0.0792, "0,079", "0.079"), (21481.447, "21.481", "21,481"), (12.34, "12,3", "12.3"),
     ("03159", "03159", "03159")],
)  # fmt: skip
def test_figure_text(value, de, en):
    assert index.figure_text(value, "de") == de and index.figure_text(value, "en") == en


def _plan(tmp_path, monkeypatch, text: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'dataset: str = "demo"  # demo or official\nlanguage: str = "de"  # de or en\n'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    bare = nbformat.v4.new_notebook()
    bare.cells = [nbformat.v4.new_code_cell('dataset: str = "demo"  # demo or official')]
    bare.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(bare, tmp_path / "bare.ipynb")
    monkeypatch.setenv("WORKBOOK_ROOT", str(tmp_path))
    plan = tmp_path / "plan.yml"
    plan.write_text(text)
    return plan


def test_plan_language_is_plan_wide_or_per_report(tmp_path, monkeypatch):
    plan = _plan(
        tmp_path,
        monkeypatch,
        "language: en\nreports:\n  - {name: a, notebook: nb.ipynb}\n"
        "  - {name: b, notebook: nb.ipynb, language: de}\n"
        "  - {name: c, notebook: bare.ipynb}\n",
    )
    jobs = {j.report: j for j in load_plan(plan, dataset="demo")}
    assert jobs["a"].parameters["language"] == "en"
    assert jobs["b"].parameters["language"] == "de"
    assert "language" not in jobs["c"].parameters  # the notebook has no such parameter


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("language: fr\nreports:\n  - {name: a, notebook: nb.ipynb}\n", "language.*de or en"),
        ("reports:\n  - {name: c, notebook: bare.ipynb, language: en}\n", "no `language`"),
    ],
)
def test_plan_language_is_checked(tmp_path, monkeypatch, text, message):
    plan = _plan(tmp_path, monkeypatch, text)
    with pytest.raises(InputError, match=message):
        load_plan(plan, dataset="demo")


def test_plan_schema_knows_the_catalogue_languages():
    from analysis.present import i18n
    from analysis.report.plan_schema import PLAN_SCHEMA

    assert PLAN_SCHEMA["properties"]["language"]["enum"] == list(i18n.LANGUAGES)


def test_without_chromium_no_pdf_and_a_clear_message(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("WORKBOOK_CHROMIUM", raising=False)
    page = tmp_path / "report.html"
    page.write_text(_render())
    assert pdf.write_pdf(page, tmp_path / "report.pdf") is False
    assert not (tmp_path / "report.pdf").exists() and "no headless Chromium" in caplog.text


@pytest.mark.browser
def test_pdf_puts_the_summary_on_page_one_and_numbers_the_pages(tmp_path):
    if pdf.find_chromium() is None or shutil.which("pdftotext") is None:
        pytest.skip("needs Debian's chromium and poppler-utils (.ci/run installs them)")
    nb = _notebook()
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("## Long detail\n\n" + "Text. " * 4000))
    page = tmp_path / "report.html"
    page.write_text(_render(nb))
    assert pdf.write_pdf(page, tmp_path / "report.pdf") is True
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(tmp_path / "report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "SUMMARY-MARK" in first and "Regional profile Göttingen" in first
    pages = int(re.search(r"1 ?/ ?(\d+)", first).group(1))
    assert pages >= 2
