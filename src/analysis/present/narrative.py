"""Sentences from results, with wording that follows the data.

Generic pieces that every report's sentences are built from:

- :func:`change_words` picks the verb from the sign of a change (a fall is never
  called a rise, a zero change is "unchanged");
- :func:`certainty` says in plain words how sure an interval lets us be;
- :func:`position` names where a percentile lies (top tenth … bottom quarter);
- :func:`before_after_caveat` says that a before/after comparison is not proof of cause;
- :func:`summary` shows "Das Wichtigste in Kürze" (3-5 findings) at the top of a report;
- :func:`say` shows sentences as a paragraph.

Domain sentences (a region's rank, a model's elasticity …) live beside them in
``present/regions.py`` and the other domain modules; all texts come from the message
catalogue (:mod:`analysis.present.i18n`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.present.i18n import gettext as _

#: MIME type marking the summary output, so the report page can lift it to the top.
SUMMARY_MIME = "application/x.workbook-summary+json"


@dataclass(frozen=True)
class Finding:
    """One finding of a report summary: a sentence with its number, how sure, what it means."""

    text: str
    key: str = ""

    def __str__(self) -> str:
        return self.text


def change_words(change: float, *, tolerance: float = 0.0) -> str:
    """The verb phrase for a change, chosen by its sign: rose / fell / stayed unchanged.

    Parameters
    ----------
    change : float
        The change (after minus before).
    tolerance : float
        Absolute changes up to this size read as "unchanged".
    """
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return _("cannot be compared")
    if abs(change) <= tolerance:
        return _("stayed about the same")
    return _("rose") if change > 0 else _("fell")


def certainty(low: float, high: float, *, null: float = 0.0) -> str:
    """How sure a 95 % interval lets us be that the true value is above/below ``null``.

    Returns a phrase such as "clearly above zero" or "not clearly different from zero".
    """
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return _("with no usable interval")
    if low > null:
        return _("clearly positive (the 95 % interval lies entirely above zero)")
    if high < null:
        return _("clearly negative (the 95 % interval lies entirely below zero)")
    return _("not clearly different from zero (the 95 % interval includes zero)")


def position(percentile: float) -> str:
    """Where a percentile (share of Kreise with a lower value, 0-100) lies, in words."""
    if percentile is None or (isinstance(percentile, float) and math.isnan(percentile)):
        return _("without a rank")
    if percentile >= 90:
        return _("in the top tenth")
    if percentile >= 75:
        return _("in the top quarter")
    if percentile >= 50:
        return _("above the median")
    if percentile >= 25:
        return _("below the median")
    return _("in the bottom quarter")


def before_after_caveat() -> str:
    """The standing caveat of a before/after comparison."""
    return _(
        "This is a before/after comparison: it shows what changed, not that the change "
        "caused it; other things changed at the same time."
    )


def join_names(names: Sequence[str]) -> str:
    """``A, B and C`` in the report language."""
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return _("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])


class Text:
    """Sentences shown as one paragraph (Markdown in Lab, HTML in the report)."""

    def __init__(self, sentences: Sequence[str]) -> None:
        self.text = " ".join(s.strip() for s in sentences if s and s.strip())

    def _repr_markdown_(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"

    def __repr__(self) -> str:
        return self.text


def say(*sentences: str) -> Text:
    """Sentences as one paragraph: the last expression of a notebook cell shows it."""
    return Text(sentences)


class Summary:
    """The report's opening summary; displays as a ``<section class="wb-summary">``."""

    def __init__(self, findings: Sequence[Finding | str], title: str) -> None:
        self.findings = [f if isinstance(f, Finding) else Finding(str(f)) for f in findings]
        self.title = title

    def _repr_mimebundle_(self, include=None, exclude=None):
        items = "".join(f"<li>{html.escape(f.text)}</li>" for f in self.findings)
        markdown = f"## {self.title}\n\n" + "\n".join(f"- {f.text}" for f in self.findings)
        return {
            SUMMARY_MIME: {"title": self.title, "findings": [f.text for f in self.findings]},
            "text/markdown": markdown,
            "text/html": f'<section class="wb-summary"><h2>{html.escape(self.title)}</h2>'
            f"<ul>{items}</ul></section>",
            "text/plain": markdown,
        }


def summary(findings: Sequence[Finding | str]) -> Summary:
    """ "Das Wichtigste in Kürze": the 3-5 findings that open a report.

    Parameters
    ----------
    findings : sequence of Finding or str
        Each one sentence with the number, its uncertainty in plain words and what it
        means. Empty findings are dropped.

    Raises
    ------
    ValueError
        With fewer than one or more than five findings left.
    """
    kept = [f for f in findings if f and str(f).strip()]
    if not 1 <= len(kept) <= 5:
        raise ValueError(f"a summary has 1 to 5 findings, got {len(kept)}")
    return Summary(kept, _("Key findings"))


#: MIME type marking the report title output (the page header shows it; drop it in the body).
TITLE_MIME = "application/x.workbook-title+json"


class Heading:
    """A heading in the report language (Markdown in Lab, ``<hN>`` in the report)."""

    def __init__(self, text: str, level: int = 2, question: str = "") -> None:
        self.text, self.level, self.question = text, level, question

    def _repr_mimebundle_(self, include=None, exclude=None):
        markdown = "#" * self.level + " " + self.text
        tag = f"h{self.level}"
        body = f"<{tag}>{html.escape(self.text)}</{tag}>"
        if self.question:
            markdown += "\n\n" + self.question
            body += f'<p class="wb-question">{html.escape(self.question)}</p>'
        bundle = {"text/markdown": markdown, "text/html": body, "text/plain": markdown}
        if self.level == 1:
            bundle[TITLE_MIME] = {"title": self.text, "question": self.question}
        return bundle


def heading(text: str, level: int = 2) -> Heading:
    """A section heading (``level`` 2) or sub-heading (3) in the report language."""
    return Heading(text, level)


def title(text: str, question: str) -> Heading:
    """The report's title and its question, in the report language (level-1 heading)."""
    return Heading(text, 1, question)


def source_line(*provenance) -> str:
    """The credit lines of the inputs behind a figure, for ``plots.show(source=...)``."""
    credits: list[str] = []
    for item in provenance:
        for credit in getattr(item, "credits", []):
            if credit not in credits:
                credits.append(credit)
    return "; ".join(credits)
