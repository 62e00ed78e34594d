"""Nothing leaves the machine: the CLI and the app run end to end with the network cut off.

A socket guard (installed in this process, so it covers everything the CLI and
Streamlit's AppTest do here) refuses every connection, datagram and name lookup
that is not for this machine, and records the attempt: a library that swallows
the error (as usage-statistics code does) is still caught by the record.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from focusqa.cli import main

ROOT = Path(__file__).resolve().parent.parent
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    host = host.strip("[]").split("%")[0]
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Monkeypatches the socket module so only loopback and Unix sockets work."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.attempts: list[str] = []
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto
        real_getaddrinfo = socket.getaddrinfo
        real_create_connection = socket.create_connection

        def refuse(what: str):
            self.attempts.append(what)
            return OSError(f"network access blocked by test: {what}")

        def check(sock, address, what):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
                raise refuse(f"{what} {address!r}")

        def connect(sock, address):
            check(sock, address, "connect")
            return real_connect(sock, address)

        def connect_ex(sock, address):
            check(sock, address, "connect")
            return real_connect_ex(sock, address)

        def sendto(sock, data, *args):
            check(sock, args[-1], "sendto")
            return real_sendto(sock, data, *args)

        def getaddrinfo(host, *args, **kwargs):
            if not _is_local(host):
                raise socket.gaierror(socket.EAI_NONAME, str(refuse(f"lookup {host!r}")))
            return real_getaddrinfo(host, *args, **kwargs)

        def create_connection(address, *args, **kwargs):
            if not _is_local(address[0]):
                raise refuse(f"create_connection {address!r}")
            return real_create_connection(address, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", sendto)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.fixture
def guard(monkeypatch) -> NetworkGuard:
    return NetworkGuard(monkeypatch)


def test_the_guard_blocks_outbound_and_allows_loopback(guard) -> None:
    with pytest.raises(OSError):
        socket.create_connection(("93.184.215.14", 443), timeout=1)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.org", 443)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(OSError):
        udp.sendto(b"x", ("8.8.8.8", 53))
    udp.close()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
    assert len(guard.attempts) == 3


def _fixture_folder(folder: Path) -> Path:
    import docx

    folder.mkdir()
    (folder / "nord_2016.txt").write_text(
        "I: Hvordan oplever I samarbejdet med skolerne?\n"
        "Rådgiver 1: Vi holder møder hver måned med skolelederen, og det fungerer godt.\n"
        "Rådgiver 2: Det tværfaglige samarbejde med sundhedsplejen er blevet bedre.\n"
        "I: Hvad med familierne?\n"
        "Rådgiver 1: Familierne inddrages tidligt, og forældrene kommer til netværksmøder.\n",
        encoding="utf-8")
    (folder / "vest_2017.md").write_text(
        "I: Hvad er jeres største udfordring?\n\n"
        "Leder: Sagstallet er for højt, vi har for mange sager pr. rådgiver.\n\n"
        "I: Og dokumentationen?\n\n"
        "Rådgiver 3: Dokumentationen tager tid fra familierne.\n", encoding="utf-8")
    document = docx.Document()
    for line in ["I: Hvordan bruger I ICS?", "Rådgiver 4: Vi bruger ICS-trekanten i alle børnefaglige "
                 "undersøgelser.", "I: Og opfølgningen?", "Rådgiver 5: Handleplanen følges op hvert halve år."]:
        document.add_paragraph(line)
    document.save(folder / "oest_2017.docx")
    (folder / "manifest.csv").write_text(
        "file,round,district,group\nnord_2016.txt,2016,Nord,rådgivere\nvest_2017.md,2017,Vest,ledere\n"
        "oest_2017.docx,2017,Øst,rådgivere\n", encoding="utf-8")
    return folder


def test_cli_end_to_end_without_network(guard, tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'offline.db'}"
    folder = _fixture_folder(tmp_path / "transcripts")
    assert main(["import", str(folder), "--db", url]) == 0
    assert "3 ok, 0 failed" in capsys.readouterr().out
    assert main(["documents", "--db", url, "--format", "json"]) == 0
    assert main(["autocode", "--db", url]) == 0
    for fmt in ("docx", "xlsx", "csv", "qdpx"):
        out = tmp_path / f"rapport.{fmt}"
        assert main(["export", fmt, str(out), "--db", url]) == 0
        assert out.stat().st_size > 0
    assert main(["backup", str(tmp_path / "copy.db"), "--db", url]) == 0
    assert guard.attempts == [], f"network access attempted: {guard.attempts}"


def _page_paths() -> list[str]:
    """The app's page files, as app.py lists them (only those that exist)."""
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    pages = sorted({p for p in (ROOT / "views").glob("*.py") if f'"views/{p.name}"' in source})
    assert pages, "app.py lists its pages"
    return [f"views/{p.name}" for p in pages]


def test_app_runs_every_page_without_network(guard, tmp_path: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert main(["import", str(_fixture_folder(tmp_path / "transcripts")), "--db", url]) == 0
    monkeypatch.setenv("FOCUSQA_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    visited = []
    for page in _page_paths():
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        visited.append(page)
    print(f"pages run offline: {', '.join(visited)}")
    assert len(visited) >= 2
    assert guard.attempts == [], f"network access attempted: {guard.attempts}"
