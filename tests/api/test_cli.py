"""The `thinkfamily` command: database, agencies, users, deployment, server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "thinkfamily"


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "THINKFAMILY_DATABASE_URL": database_url}
    return subprocess.run(
        [str(COMMAND), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite'}"


def test_set_up_a_database_users_and_processes_from_the_command_line(fresh_url: str) -> None:
    assert run(fresh_url, "db", "upgrade").returncode == 0
    agency = run(
        fresh_url,
        "create-agency",
        "--code",
        "csc",
        "--name",
        "CSC",
        "--kind",
        "childrens_social_care",
    )
    assert agency.returncode == 0, agency.stderr
    user = run(
        fresh_url,
        "create-user",
        "--username",
        "pat",
        "--password",
        "a long password 1",
        "--role",
        "practitioner",
        "--role",
        "team_manager",
        "--agency",
        "csc",
    )
    assert user.returncode == 0, user.stderr
    again = run(
        fresh_url,
        "create-user",
        "--username",
        "pat",
        "--password",
        "a long password 1",
        "--role",
        "practitioner",
        "--agency",
        "csc",
    )
    assert again.returncode != 0
    assert "taken" in again.stderr
    assert "a long password" not in again.stderr + again.stdout
    deployed = run(fresh_url, "deploy", str(ROOT / "workflows"))
    assert deployed.returncode == 0, deployed.stderr
    for key in ("referral", "early_help", "mdt_meeting", "escalation"):
        assert f"{key}: version 1 deployed" in deployed.stdout
    unchanged = run(fresh_url, "deploy", str(ROOT / "workflows"))
    assert "referral: version 1 unchanged" in unchanged.stdout


def test_deploy_reports_problems_for_a_process_owner(fresh_url: str, tmp_path: Path) -> None:
    assert run(fresh_url, "db", "upgrade").returncode == 0
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.bpmn").write_text("<bpmn:definitions")
    result = run(fresh_url, "deploy", str(folder))
    assert result.returncode != 0
    assert "broken: refused" in result.stderr
    assert "not well-formed" in result.stderr


def test_serve_answers_http(fresh_url: str) -> None:
    assert run(fresh_url, "db", "upgrade").returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "THINKFAMILY_DATABASE_URL": fresh_url}
    server = subprocess.Popen(
        [str(COMMAND), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=2) as r:
                    status = r.status
            except OSError:
                time.sleep(0.3)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_stopping_make_run_stops_everything_it_started_cleanly(stop: str) -> None:
    """`make run`'s trap must not call itself: `kill 0` signals its own shell, which re-ran the
    trap until bash overflowed its stack ("Segmentation fault" instead of a clean stop)."""
    import re
    import signal

    recipe = (ROOT / "Makefile").read_text()
    found = re.search(r"@trap '([^']+)' ([A-Z ]+); \\", recipe)
    assert found is not None
    action, signals = found.groups()
    script = f"trap '{action}' {signals}; sleep 60 & sleep 60 & wait"

    def as_at_a_terminal() -> None:  # a job started in the background (as CI runs the suite)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # inherits SIGINT ignored; a terminal not

    shell = subprocess.Popen(
        ["bash", "-c", script], start_new_session=True, preexec_fn=as_at_a_terminal
    )
    try:
        time.sleep(0.5)
        os.kill(shell.pid, getattr(signal, stop))
        status = shell.wait(timeout=20)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
    assert status in (-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGTERM, 130), status
    for _ in range(50):  # the children were stopped with it
        group = subprocess.run(["pgrep", "-g", str(shell.pid)], capture_output=True, check=False)
        if not group.stdout.strip():
            break
        time.sleep(0.1)
    assert group.stdout.strip() == b""
