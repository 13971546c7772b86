"""The scheduling examples (cron, systemd timer, CI) are valid and run the same command."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "scheduling"
CI = ROOT / ".github" / "workflows" / "reports.yml"
COMMAND = ["make", "report"]

_CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_CRON_NAMES = [
    {},
    {},
    {},
    {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)},
    {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
]


def cron_field_values(field: str, position: int) -> set[int]:
    """Expand one cron field (``*``, ``1-5``, ``*/15``, ``1,3``, ``mon-fri``) or raise."""
    low, high = _CRON_RANGES[position]
    names = _CRON_NAMES[position]
    values: set[int] = set()

    def number(text: str) -> int:
        value = names.get(text.lower()) if text.lower() in names else int(text)
        if not low <= value <= high:
            raise ValueError(f"{text} outside {low}-{high}")
        return value

    for part in field.split(","):
        match = re.fullmatch(r"(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"bad cron field {field!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise ValueError("step must be >= 1")
        if span == "*":
            start, stop = low, high
        elif "-" in span:
            start, stop = (number(x) for x in span.split("-"))
            if start > stop:
                raise ValueError(f"empty range {span}")
        else:
            start = stop = number(span)
        values.update(range(start, stop + 1, step))
    return values


def parse_crontab(text: str) -> list[tuple[list[str], str]]:
    """Job lines of a user crontab as (five fields, command); env lines are skipped."""
    jobs = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", stripped):
            continue
        parts = stripped.split(None, 5)
        if len(parts) < 6:
            raise ValueError(f"cron line needs five time fields and a command: {line!r}")
        for position, field in enumerate(parts[:5]):
            cron_field_values(field, position)
        jobs.append((parts[:5], parts[5]))
    return jobs


def _strip_redirections(tokens: list[str]) -> list[str]:
    kept, skip = [], False
    for token in tokens:
        if skip:
            skip = False
            continue
        if token in {">", ">>", "2>", "2>>", "<"}:
            skip = True
            continue
        if re.fullmatch(r"\d?>>?&?\d?|\d?>>?\S+", token):
            continue
        kept.append(token)
    return kept


def _command_from_shell(line: str) -> tuple[str | None, list[str]]:
    """(working directory from a leading ``cd DIR &&``, command tokens)."""
    workdir = None
    parts = [p.strip() for p in line.split("&&")]
    if len(parts) == 2 and parts[0].startswith("cd "):
        workdir = shlex.split(parts[0])[1]
        line = parts[1]
    elif len(parts) != 1:
        raise ValueError(f"expected `cd DIR && COMMAND`, got {line!r}")
    return workdir, _strip_redirections(shlex.split(line))


def _systemd(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def test_cron_validator_rejects_bad_lines():
    assert cron_field_values("1-5", 4) == {1, 2, 3, 4, 5}
    assert cron_field_values("*/15", 0) == {0, 15, 30, 45}
    assert cron_field_values("mon-fri", 4) == {1, 2, 3, 4, 5}
    for bad in ("* * * *  make report", "61 5 * * * make report", "30 5 * * 1-9 make report"):
        with pytest.raises(ValueError):
            parse_crontab(bad)


def test_crontab_is_valid_and_runs_make_report_in_the_checkout():
    jobs = parse_crontab((DOCS / "crontab").read_text())
    assert len(jobs) == 1
    fields, command = jobs[0]
    workdir, tokens = _command_from_shell(command)
    assert tokens == COMMAND
    assert workdir and workdir.startswith("/")
    assert fields == ["30", "5", "*", "*", "1-5"]


def test_systemd_units_are_complete_and_run_make_report():
    service = _systemd(DOCS / "workbook-reports.service")
    timer = _systemd(DOCS / "workbook-reports.timer")
    assert service["Service"]["Type"] == "oneshot"
    exec_start = shlex.split(service["Service"]["ExecStart"])
    assert exec_start[0].startswith("/"), "systemd needs an absolute ExecStart"
    assert exec_start[1:] == COMMAND and exec_start[0] == "/usr/bin/env"
    assert service["Service"]["WorkingDirectory"].startswith("/")
    assert service["Service"]["KillSignal"] == "SIGINT", "a stop must act like Ctrl-C"
    assert service["Unit"]["Description"]
    assert timer["Timer"]["Unit"] == "workbook-reports.service"
    assert timer["Timer"]["OnCalendar"] == "Mon..Fri *-*-* 05:30:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_systemd_accepts_the_calendar_expression():
    result = subprocess.run(
        ["systemd-analyze", "calendar", "Mon..Fri *-*-* 05:30:00"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_ci_schedule_is_valid_yaml_and_runs_make_report():
    workflow = yaml.safe_load(CI.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    (schedule,) = triggers["schedule"]
    fields = schedule["cron"].split()
    assert len(fields) == 5
    for position, field in enumerate(fields):
        cron_field_values(field, position)
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    runs = [shlex.split(s["run"]) for s in steps if "run" in s]
    assert runs == [COMMAND], "the CI job runs exactly the scheduled command"
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_all_three_schedules_agree_on_command_place_and_time():
    ((cron_fields, cron_command),) = parse_crontab((DOCS / "crontab").read_text())
    cron_dir, cron_tokens = _command_from_shell(cron_command)
    service = _systemd(DOCS / "workbook-reports.service")
    systemd_tokens = shlex.split(service["Service"]["ExecStart"])[1:]
    workflow = yaml.safe_load(CI.read_text())
    ci_cron = workflow.get("on", workflow.get(True))["schedule"][0]["cron"]
    ci_runs = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]

    assert cron_tokens == systemd_tokens == shlex.split(ci_runs[0]) == COMMAND
    assert cron_dir == service["Service"]["WorkingDirectory"]
    assert " ".join(cron_fields) == ci_cron
    # OnCalendar "Mon..Fri *-*-* 05:30:00" is cron "30 5 * * 1-5".
    calendar = _systemd(DOCS / "workbook-reports.timer")["Timer"]["OnCalendar"]
    days, _, clock = calendar.split()
    hour, minute, _ = clock.split(":")
    assert (int(minute), int(hour)) == (int(cron_fields[0]), int(cron_fields[1]))
    assert days == "Mon..Fri" and cron_fields[4] == "1-5"


def test_the_scheduled_command_exists_and_is_documented():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^report:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe and "workbook report" in recipe.group(1)
    readme = (DOCS / "README.md").read_text()
    for needle in ("make report", "WORKBOOK_NOTIFY", "WORKBOOK_NOTIFY_ON", "keep", "130"):
        assert needle in readme


def test_make_help_documents_every_phony_target():
    if not shutil.which("make"):
        pytest.skip("make not installed")
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    listed = dict(re.findall(r"^\s+make (\S+)\s+(.+)$", done.stdout, re.M))
    assert sorted(listed) == sorted(phony), done.stdout
    assert all(len(text) > 10 for text in listed.values())


def test_make_lab_runs_as_root_and_says_where_to_start():
    import os

    if not shutil.which("make"):
        pytest.skip("make not installed")
    done = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True)
    command = next(line for line in done.stdout.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    assert "notebooks/explore/" in done.stdout
