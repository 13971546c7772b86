"""``reports/index.html``: the entry point listing every report and parameter set."""

from __future__ import annotations

import html
import json

from analysis.report.html import _CSS

_BADGE = {
    "ok": "#1b7f3b",
    "cached": "#1d4e89",
    "failed": "#b3261e",
    "skipped": "#6b7280",
}


def _params(parameters: dict | None) -> str:
    if not parameters:
        return ""
    return "<br>".join(
        f"<code>{html.escape(str(k))}</code>={html.escape(json.dumps(v, ensure_ascii=False))}"
        for k, v in parameters.items()
    )


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return json.dumps(value, ensure_ascii=False)


def _changes(run: dict, limit: int = 5) -> str:
    """The flagged key-figure changes of a run, as compact HTML."""
    flagged = run.get("diff_flagged") or []
    if not flagged:
        return ""
    items = []
    for change in flagged[:limit]:
        rel = change.get("rel_change")
        pct = f" ({'+' if (change.get('abs_change') or 0) >= 0 else '−'}{rel:.1%})" if rel else ""
        items.append(
            f"<li><b>{html.escape(str(change.get('name')))}</b>: "
            f"{html.escape(_number(change.get('old')))} → "
            f"{html.escape(_number(change.get('new')))}{html.escape(pct)}</li>"
        )
    more = f"<li>… {len(flagged) - limit} more</li>" if len(flagged) > limit else ""
    return f'<ul class="wb-changed" data-flagged="{len(flagged)}">{"".join(items)}{more}</ul>'


def render_index(state: dict) -> str:
    """Render the index page from the store's state (see ``ReportStore``).

    Every report and parameter set gets one row: its status (of the last attempt),
    time and duration of the last run, the key figures that changed beyond the
    threshold, a link to the last good report and its manifest, the last run's log,
    and for a failed last run links to the partial notebook and its page.
    """
    esc = html.escape
    rows = []
    entries = sorted(state.get("entries", {}).items())
    for key, entry in entries:
        runs = entry.get("runs", [])
        last = runs[-1] if runs else {}
        status = entry.get("status", last.get("status", "?"))
        base = f"{entry['report']}/{entry['slug']}"
        links = []
        if entry.get("last_good"):
            links.append(f'<a href="{esc(base)}/report.html">report</a>')
            good = f"{base}/runs/{entry['last_good']}"
            links.append(f'<a href="{esc(good)}/manifest.json">manifest</a>')
        # Older index entries have no file list: assume the usual files are there.
        files = set(last.get("files") or ("executed.ipynb", "run.log", last.get("html") or ""))
        run_base = f"{base}/runs/{last.get('run_id')}"
        if last.get("status") == "failed":
            if "executed.ipynb" in files:
                links.append(f'<a href="{esc(run_base)}/executed.ipynb">partial notebook</a>')
            if last.get("html") and last["html"] in files:
                links.append(f'<a href="{esc(run_base)}/{esc(last["html"])}">partial page</a>')
        if last.get("run_id") and "run.log" in files:
            links.append(f'<a href="{esc(run_base)}/run.log">log</a>')
        if status == "skipped":
            error = f'<div class="wb-note">{esc(str(entry.get("skip_reason", ""))[:300])}</div>'
        elif last.get("status") == "failed":
            error = f'<div class="wb-error">{esc(str(last.get("error", ""))[:300])}</div>'
        else:
            error = ""
        changes = _changes(last) if last.get("status") == "ok" else ""
        dataset = (entry.get("parameters") or {}).get("dataset", "")
        demo = ' <span class="wb-tag">synthetic demo data</span>' if dataset == "demo" else ""
        duration = last.get("duration_s")
        rows.append(
            f'<tr data-key="{esc(key)}" data-status="{esc(status)}">'
            f"<td><b>{esc(entry['report'])}</b>{demo}</td>"
            f"<td>{_params(entry.get('parameters'))}</td>"
            f'<td><span class="wb-badge" style="background:{_BADGE.get(status, "#444")}">'
            f"{esc(status)}</span>{error}</td>"
            f'<td class="wb-when">{esc(str(last.get("started_at", "")).replace("T", " "))}</td>'
            f"<td>{'' if duration is None else f'{duration:.1f} s'}</td>"
            f"<td>{changes}</td>"
            f"<td>{len(runs)}</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    counts: dict[str, int] = {}
    for _, entry in entries:
        counts[entry.get("status", "?")] = counts.get(entry.get("status", "?"), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no reports yet"
    extra_css = """
.wb-badge { color: #fff; border-radius: 3px; padding: .05rem .45rem; font-size: .8rem; }
.wb-tag { background: #fff4ce; border: 1px solid #e0c060; border-radius: 3px; padding: 0 .3rem;
          font-size: .75rem; margin-left: .3rem; }
.wb-error { color: #b3261e; font-size: .8rem; max-width: 28rem; text-align: left; }
.wb-changed { color: #8a4b00; font-size: .8rem; }
.wb-note { color: #5b6270; font-size: .8rem; max-width: 28rem; }
.wb-changed b { font-weight: 600; }
.wb-index td, .wb-index th { text-align: left; }
.wb-tag, .wb-badge, .wb-when { white-space: nowrap; }
"""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Champions Workbook — reports</title>
<style>{_CSS}{extra_css}</style>
</head>
<body>
<main>
<header class="wb-header"><h1>Champions Workbook — reports</h1>
<div class="wb-meta"><span>{esc(summary)}</span></div></header>
<table class="wb-index">
<thead><tr><th>Report</th><th>Parameters</th><th>Status</th><th>Last run (UTC)</th>
<th>Duration</th><th>Changed figures</th><th>Runs</th><th>Links</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody>
</table>
<footer><p>Each report links to its last good version; a failed run keeps its partial
notebook and log and never replaces the last good page. <code>manifest.json</code> records
parameters, inputs, versions and key figures of a run. "Changed figures" lists the key
figures of the last run that moved beyond the plan's threshold against the previous good
run (the full comparison is under <code>diff</code> in the manifest).</p></footer>
</main>
</body>
</html>
"""
