"""Tell someone how a scheduled report run went: a command or a webhook.

``workbook report --notify TARGET`` (or the environment variable
``WORKBOOK_NOTIFY``) names either

- a URL (``http://`` or ``https://``): the JSON summary is POSTed to it with
  ``Content-Type: application/json`` (Slack/Teams/Mattermost-style webhooks, or any
  small service of your own); or
- a shell command: it runs with the JSON summary on its standard input and the
  run's status in ``WORKBOOK_STATUS`` (e.g. ``mail -s "reports" team@example.org``
  or ``logger -t workbook``).

``--notify-on`` (or ``WORKBOOK_NOTIFY_ON``) says when: ``failure`` (default: a
report failed, the run was interrupted or could not start), ``changes`` (failure,
or a key figure moved beyond the plan's diff threshold), ``success`` or ``always``.
A notification that cannot be delivered is a warning on stderr; it never changes the
run's exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

WHEN = ("failure", "changes", "success", "always")
TIMEOUT_S = 30


def target_from_env(cli_value: str | None) -> str | None:
    """The notification target: the CLI value, else ``WORKBOOK_NOTIFY``, else None."""
    value = cli_value if cli_value is not None else os.environ.get("WORKBOOK_NOTIFY", "")
    return value.strip() or None


def when_from_env(cli_value: str | None) -> str:
    """When to notify: the CLI value, else ``WORKBOOK_NOTIFY_ON``, else ``failure``.

    Raises
    ------
    ValueError
        For a value other than failure, changes, success or always.
    """
    value = cli_value or os.environ.get("WORKBOOK_NOTIFY_ON", "") or "failure"
    if value not in WHEN:
        raise ValueError(f"notify-on must be one of {', '.join(WHEN)}, got {value!r}")
    return value


def should_notify(when: str, summary: dict) -> bool:
    """Whether a run with this summary warrants a notification.

    Parameters
    ----------
    when : {"failure", "changes", "success", "always"}
    summary : dict
        From :func:`analysis.report.runner.RunOutcome.summary` (``status`` is ok,
        failed, interrupted or error; ``flagged`` counts flagged figure changes).
    """
    failed = summary.get("status") != "ok"
    if when == "always":
        return True
    if when == "failure":
        return failed
    if when == "changes":
        return failed or bool(summary.get("flagged"))
    return not failed  # success


def send(target: str, summary: dict, *, timeout: float = TIMEOUT_S) -> None:
    """Deliver a summary to a URL (HTTP POST) or a command (JSON on stdin).

    Parameters
    ----------
    target : str
        ``http(s)://...`` or a shell command line.
    summary : dict
        JSON-serializable run summary.
    timeout : float
        Seconds before giving up.

    Raises
    ------
    OSError
        When the notification could not be delivered (HTTP error status, connection
        failure, command exit status other than 0, timeout).
    """
    body = json.dumps(summary, indent=2, sort_keys=True, default=str).encode()
    if target.startswith(("http://", "https://")):
        request = urllib.request.Request(
            target,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "champions-workbook"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise OSError(f"{target} answered HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OSError(f"cannot reach {target}: {reason}") from None
        return
    env = {**os.environ, "WORKBOOK_STATUS": str(summary.get("status", ""))}
    try:
        done = subprocess.run(
            target,
            shell=True,  # noqa: S602 - the operator's own command line, by design
            input=body,
            capture_output=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"notify command timed out after {timeout:.0f} s: {target}") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise OSError(f"notify command exited with {done.returncode}: {target} {tail[0]}".strip())


def notify(target: str | None, when: str, summary: dict, *, stream=None) -> bool:
    """Send the summary when ``when`` says so; warn instead of raising.

    Returns
    -------
    bool
        True when a notification was delivered.
    """
    if not target or not should_notify(when, summary):
        return False
    stream = stream or sys.stderr
    try:
        send(target, summary)
    except OSError as exc:
        stream.write(f"workbook: warning: notification failed: {exc}\n")
        return False
    return True
