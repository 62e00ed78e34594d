"""The app stays on this machine unless someone explicitly opens it up, and ships private settings."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from focusqa.cli import admin_cmds, main

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".streamlit" / "config.toml"


@pytest.fixture
def launched(monkeypatch) -> list[list[str]]:
    """Record the Streamlit command instead of starting a server."""
    calls: list[list[str]] = []
    monkeypatch.setattr(admin_cmds, "launch", lambda cmd, **kw: calls.append(cmd) or 0)
    return calls


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.168.1.20", "focusqa.kommune.local"])
def test_serve_refuses_a_network_address_without_allow_remote(address, launched, capsys) -> None:
    assert main(["serve", "--address", address]) == 2
    err = capsys.readouterr().err
    assert f"refusing to listen on {address}" in err and "--allow-remote" in err and "login" in err
    assert launched == [], "no server may be started"


def test_serve_binds_to_loopback_by_default_and_remote_only_when_asked(launched) -> None:
    assert main(["serve"]) == 0
    cmd = launched[-1]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert main(["serve", "--address", "0.0.0.0", "--allow-remote"]) == 0
    cmd = launched[-1]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"


def test_shipped_streamlit_config_is_private() -> None:
    settings = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert settings["browser"]["gatherUsageStats"] is False
    server = settings["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True
    assert 1 <= server["maxUploadSize"] <= 100, "MB; transcripts are small, Streamlit's default is 200"


def test_streamlit_applies_the_shipped_config(monkeypatch) -> None:
    """What Streamlit itself reads when started from the project folder (as `focusqa serve` does)."""
    from streamlit import config

    for key in list(os.environ):
        if key.startswith("STREAMLIT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(ROOT / ".no-such-home"))  # ignore a developer's ~/.streamlit
    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("browser.gatherUsageStats") is False
        assert config.get_option("server.address") == "127.0.0.1"
        assert config.get_option("server.enableXsrfProtection") is True
        assert config.get_option("server.maxUploadSize") <= 100
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)


def test_serve_prints_the_address_and_opens_a_browser_only_on_a_desktop(launched, monkeypatch, capsys) -> None:
    monkeypatch.setattr(admin_cmds.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["serve", "--port", "8600"]) == 0
    assert "http://127.0.0.1:8600" in capsys.readouterr().out
    assert launched[-1][launched[-1].index("--server.headless") + 1] == "true"
    monkeypatch.setenv("DISPLAY", ":0")
    assert main(["serve"]) == 0
    assert launched[-1][launched[-1].index("--server.headless") + 1] == "false"   # Streamlit opens it
    assert main(["serve", "--no-browser"]) == 0
    assert launched[-1][launched[-1].index("--server.headless") + 1] == "true"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _streamlit_pids(port: int) -> list[int]:
    """Streamlit processes listening on ``port`` (found by their command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(args) and b"--server.port" in args \
                and args[args.index(b"--server.port") + 1] == str(port).encode():
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the server's processes in /proc")
def test_stopping_serve_with_sigterm_stops_the_server_and_frees_the_port(tmp_path) -> None:
    """A service manager (or `kill`) stops `focusqa serve`: no Streamlit may stay behind on the port."""
    import signal
    import subprocess
    import sys
    import time

    port = _free_port()
    env = dict(os.environ, FOCUSQA_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    serve = subprocess.Popen([sys.executable, "-m", "focusqa.cli", "serve", "--no-browser", "--port", str(port)],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90     # hang guards, far above the few seconds Streamlit needs
        while not _port_answers(port):
            assert serve.poll() is None, serve.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the app never answered"
            time.sleep(0.2)
        serve.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while (_port_answers(port) or _streamlit_pids(port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _port_answers(port), "the port is still taken after SIGTERM"
        assert _streamlit_pids(port) == [], "a Streamlit process outlived `focusqa serve`"
        assert serve.wait(timeout=10) is not None
    finally:
        for pid in _streamlit_pids(port):     # leftovers of this test only
            os.kill(pid, signal.SIGKILL)
        if serve.poll() is None:
            serve.kill()
        serve.stdout.close()
