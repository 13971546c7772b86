"""The notification hook: a command gets the JSON on stdin, a URL gets it POSTed."""

from __future__ import annotations

import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from analysis.report import notify

SUMMARY = {"status": "failed", "counts": {"ok": 1, "failed": 1}, "failed": [{"key": "a/b"}]}


@pytest.mark.parametrize(
    ("when", "status", "flagged", "expected"),
    [
        ("failure", "failed", [], True),
        ("failure", "interrupted", [], True),
        ("failure", "error", [], True),
        ("failure", "ok", [{"name": "x"}], False),
        ("changes", "ok", [{"name": "x"}], True),
        ("changes", "ok", [], False),
        ("changes", "failed", [], True),
        ("success", "ok", [], True),
        ("success", "failed", [], False),
        ("always", "ok", [], True),
        ("always", "failed", [], True),
    ],
)
def test_should_notify(when, status, flagged, expected):
    assert notify.should_notify(when, {"status": status, "flagged": flagged}) is expected


def test_target_and_when_come_from_flag_else_environment(monkeypatch):
    monkeypatch.setenv("WORKBOOK_NOTIFY", "https://hooks.example.org/x")
    monkeypatch.setenv("WORKBOOK_NOTIFY_ON", "always")
    assert notify.target_from_env(None) == "https://hooks.example.org/x"
    assert notify.target_from_env("cat") == "cat"
    assert notify.when_from_env(None) == "always"
    assert notify.when_from_env("success") == "success"
    monkeypatch.delenv("WORKBOOK_NOTIFY")
    monkeypatch.delenv("WORKBOOK_NOTIFY_ON")
    assert notify.target_from_env(None) is None
    assert notify.when_from_env(None) == "failure"
    with pytest.raises(ValueError, match="notify-on must be one of"):
        notify.when_from_env("sometimes")


def test_command_gets_json_on_stdin_and_status_in_environment(tmp_path):
    out = tmp_path / "got.json"
    script = tmp_path / "hook.py"
    script.write_text(
        "import json, os, sys\n"
        "data = json.load(sys.stdin)\n"
        "data['env_status'] = os.environ['WORKBOOK_STATUS']\n"
        f"open({str(out)!r}, 'w').write(json.dumps(data))\n"
    )
    notify.send(f"{sys.executable} {script}", SUMMARY)
    got = json.loads(out.read_text())
    assert got["counts"] == SUMMARY["counts"] and got["env_status"] == "failed"


def test_failing_command_raises_with_its_exit_status(tmp_path):
    with pytest.raises(OSError, match="exited with 3"):
        notify.send(f"{sys.executable} -c 'import sys; sys.exit(3)'", SUMMARY)


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    answer = 200

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        type(self).received.append(
            (self.path, self.headers["Content-Type"], json.loads(self.rfile.read(length)))
        )
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def hook_server():
    _Hook.received = []
    _Hook.answer = 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Hook
    server.shutdown()
    server.server_close()


def test_url_gets_http_post_with_json(hook_server):
    url, hook = hook_server
    notify.send(f"{url}/reports", SUMMARY)
    ((path, content_type, body),) = hook.received
    assert path == "/reports" and content_type == "application/json"
    assert body == SUMMARY


def test_undeliverable_notification_is_a_warning_not_an_error(hook_server):
    url, hook = hook_server
    hook.answer = 500
    stream = io.StringIO()
    delivered = notify.notify(url, "failure", SUMMARY, stream=stream)
    assert delivered is False
    assert "notification failed" in stream.getvalue() and "HTTP 500" in stream.getvalue()


def test_nothing_is_sent_when_not_wanted(hook_server):
    url, hook = hook_server
    assert notify.notify(url, "failure", {"status": "ok", "flagged": []}) is False
    assert notify.notify(None, "always", SUMMARY) is False
    assert hook.received == []
