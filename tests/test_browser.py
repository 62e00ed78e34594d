"""End to end in a real browser: the system Chromium against ``streamlit run app.py``.

A coder opens Kodning, accepts a suggestion, reloads the page and still sees it
accepted (and the database has it); then Temaer shows the demo districts in the matrix.
Screenshots of every step go to the test's tmp folder and to ``screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from focusqa.config import MACHINE_CODER
from focusqa.store import Store
from focusqa.types import CodeSuggestion

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "socialraadgivere"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DISTRICTS = ("Nord", "Øst", "Centrum", "Vest")
CODER = "Evaluator"

pytestmark = pytest.mark.browser

FIXTURE = """Interviewer: Hvad er jeres erfaringer med den tidlige indsats?
Mette: Forældrene henvender sig tidligt, inden problemerne vokser.
Interviewer: Og samarbejdet med familiegruppen?
Lars: Underretningerne er blevet skarpere, samarbejdet med familiegruppen er godt.
"""


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing (Debian package chromium; scripts/system-deps.sh installs it)"
    if "1" in (os.environ.get("FOCUSQA_REQUIRE_BROWSER"), os.environ.get("FOCUSQA_REQUIRE_SYSTEM")):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_project(url: str, folder: Path) -> tuple[Store, int]:
    """The demo corpus (or a small fixture when it is absent) plus suggestions on one document.

    Returns the store and the id of the segment whose suggestion the test accepts.
    """
    from focusqa.cli import main

    if DEMO.is_dir():
        assert main(["import", str(DEMO), "--with-reference", "--db", url]) == 0
    else:
        folder.mkdir()
        for district in DISTRICTS:
            (folder / f"2016_{district}.txt").write_text(FIXTURE.replace("Mette", f"Mette {district}"),
                                                         encoding="utf-8")
            assert main(["import", str(folder / f"2016_{district}.txt"), "--round", "2016",
                         "--district", district, "--db", url]) == 0
    store = Store(url)
    first = store.documents()[0]
    participants = [s for s in store.segments(first.id) if s.role == "participant"]
    plausible = [s for s in participants if any(w in s.text.lower() for w in ("tidlig", "forebyg"))]
    participants = (plausible or participants)[:6]
    store.replace_suggestions({s.id: [CodeSuggestion("tidlig-indsats", 1, "Tidlig indsats", 0.82,
                                                     {"terms": ["tidligt"]})] for s in participants})
    return store, participants[0].id


@pytest.fixture
def server(tmp_path: Path):
    """``streamlit run app.py`` on a free port with its own database; yields (base URL, store)."""
    _require_browser()
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    store, segment_id = _load_project(url, tmp_path / "fixture")
    port = _free_port()
    env = {**os.environ, "FOCUSQA_DATABASE_URL": url}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
        time.sleep(0.3)
    yield base, store, segment_id
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    store.dispose()


@pytest.fixture
def shots(tmp_path: Path):
    """Save a screenshot under tmp and copy it to screenshots/ (git-ignored) for a human look."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    public = ROOT / "screenshots"

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        public.mkdir(exist_ok=True)
        shutil.copy(path, public / path.name)
        return path

    return take


BUSY = ("() => [...document.querySelectorAll("
        "'[data-testid=stStatusWidget], [data-testid=stSkeleton], [inert], [role=dialog]')]"
        ".filter(e => e.dataset.testid !== 'stExpanderDetails')"  # a closed expander is inert
        ".map(e => e.dataset.testid || e.getAttribute('role') || e.tagName)")


def _wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished the current run and drawn every element.

    Busy means: the running indicator, skeletons of elements still loading, or an
    inert page behind a dialog. On timeout the failure says which of them stayed.
    """
    page.wait_for_selector("[data-testid=stApp]", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_timeout(250)
        busy = page.evaluate(BUSY)
        if not busy:
            page.wait_for_timeout(250)
            if not page.evaluate(BUSY):
                return
        if time.monotonic() > deadline:
            dialog = page.locator("[role=dialog]")
            text = dialog.first.inner_text() if dialog.count() else ""
            pytest.fail(f"the app stayed busy: {busy} {text!r}")


def sign_in(page, name: str) -> None:
    """Sign in from the sidebar as a person does: pick ``name`` from the coder list, or add yourself."""
    from playwright.sync_api import expect

    sidebar = page.locator("[data-testid=stSidebar]")
    picker = sidebar.get_by_role("combobox", name="Hvem er du?")
    listed = False
    if picker.count():
        picker.click()
        option = page.get_by_role("option", name=name, exact=True)
        listed = option.count() > 0
        if listed:
            option.click()
        else:
            page.keyboard.press("Escape")
    if listed:
        _wait_idle(page)
        sidebar.get_by_role("button", name="Log ind som koder").click()
    else:
        field = sidebar.get_by_role("textbox", name="Dit navn eller dine initialer")
        if not field.is_visible():
            sidebar.get_by_text("Ny koder? Tilføj dig selv").click()
        field.fill(name)
        field.press("Enter")
        _wait_idle(page)
        sidebar.get_by_role("button", name="Tilføj mig").click()
    expect(sidebar.get_by_text(f"Du koder som {name}")).to_be_visible(timeout=30_000)
    _wait_idle(page)


def open_signed_in(browser, url: str):
    """A Danish page at ``url`` with the app idle and :data:`CODER` signed in."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="da-DK")
    page.goto(url)
    expect(page.locator("[data-testid=stSidebar]")).to_be_visible(timeout=30_000)
    _wait_idle(page)
    sign_in(page, CODER)
    return page


@contextmanager
def signed_in_page(base: str, path: str) -> Iterator:
    """A Danish page at ``path`` in the system Chromium, :data:`CODER` signed in; closed after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield open_signed_in(browser, f"{base}{path}")
        finally:
            browser.close()


def switch_language(page, language: str) -> None:
    """Click ``language`` ("Dansk" or "English") in the sidebar and wait for the page."""
    page.locator("[data-testid=stSidebar]").get_by_text(language, exact=True).click()
    _wait_idle(page)


def test_accept_survives_reload_and_themes_show_the_districts(server, shots) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, store, segment_id = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="da-DK")
        page.goto(base)
        expect(page.get_by_role("heading", name="Oversigt")).to_be_visible(timeout=30_000)
        _wait_idle(page)
        shots(page, "01_oversigt")

        sign_in(page, CODER)   # the demo lists evaluator_a and evaluator_b: add yourself
        assert "koder=" not in page.url, "the coder is not in the address"
        page.get_by_role("link", name="Kodning").click()
        expect(page.get_by_role("heading", name="Kodning")).to_be_visible(timeout=30_000)
        turn = page.locator(f".st-key-turn_{segment_id}")
        expect(turn).to_be_visible(timeout=30_000)
        _wait_idle(page)
        turn.scroll_into_view_if_needed()
        shots(page, "02_kodning")

        turn.get_by_role("button", name="Accepter").click()
        expect(turn.get_by_role("button", name="Accepter")).to_have_count(0, timeout=30_000)
        _wait_idle(page)
        turn.scroll_into_view_if_needed()
        shots(page, "03_accepteret")
        mine = store.codings(coder=CODER, segment_ids=[segment_id])
        assert [(c.code_id, c.status) for c in mine] == [("tidlig-indsats", "accepted")]

        page.reload()
        expect(page.get_by_role("heading", name="Kodning")).to_be_visible(timeout=30_000)
        _wait_idle(page)
        # the signed-in coder lives in the browser session, not in the address: sign in again
        expect(page.get_by_text("Vælg dig selv under")).to_be_visible(timeout=30_000)
        sign_in(page, CODER)   # now on the list: pick yourself
        turn = page.locator(f".st-key-turn_{segment_id}")
        expect(turn).to_be_visible(timeout=30_000)
        _wait_idle(page)
        expect(turn).to_contain_text("1. Tidlig indsats")
        expect(turn.get_by_role("button", name="Accepter")).to_have_count(0)
        turn.scroll_into_view_if_needed()
        shots(page, "04_efter_genindlaesning")
        assert [c.status for c in store.codings(coder=CODER, segment_ids=[segment_id])] == ["accepted"]
        assert store.codings(coder=MACHINE_CODER, segment_ids=[segment_id])[0].status == "accepted"

        themes = page.get_by_role("link", name="Temaer")
        assert themes.count() == 1, ("the Temaer page (views/themes.py) is missing from the navigation; "
                                     "the district matrix cannot be checked")
        themes.click()
        expect(page.get_by_role("heading", name="Temaer pr. distrikt")).to_be_visible(timeout=30_000)
        chart = page.locator("[data-testid=stVegaLiteChart]").first
        expect(chart).to_be_visible(timeout=30_000)
        _wait_idle(page)
        shots(page, "05_temaer")
        visible = set(chart.locator("svg text").evaluate_all(
            "els => els.filter(e => getComputedStyle(e).opacity !== '0' && e.getAttribute('opacity') !== '0')"
            ".map(e => e.textContent)"))
        missing = [d for d in DISTRICTS if d not in visible]
        assert not missing, (f"district labels not visible in the Temaer matrix: {missing} "
                             f"(visible labels: {sorted(t for t in visible if not t.isdigit())})")
        browser.close()


def test_the_browser_asks_nothing_of_other_hosts_and_a_rebound_name_is_refused(server) -> None:
    """Every request the pages make goes to the app's own address (no icon fonts from
    Google); a foreign name pointed at 127.0.0.1 (DNS rebinding) gets a refusal, no data."""
    from playwright.sync_api import expect, sync_playwright

    base, store, _ = server
    port = base.rsplit(":", 1)[1]
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=CHROMIUM_ARGS + ["--host-resolver-rules=MAP angriber.example 127.0.0.1"])
        page = browser.new_page(locale="da-DK")
        page.on("request", lambda request: None if request.url.startswith(
            (base, base.replace("http", "ws"), "data:", "blob:")) else outside.append(request.url))
        for path in ("", "kodning", "temaer", "enighed", "kodebog", "eksport", "import"):
            page.goto(f"{base}/{path}")
            _wait_idle(page)
        assert outside == []

        page.goto(f"http://angriber.example:{port}/")
        expect(page.get_by_text("focusqa answers only requests addressed to this machine")).to_be_visible(
            timeout=30_000)
        expect(page.get_by_role("heading", name="Oversigt")).to_have_count(0)
        browser.close()


def _in_view(locator) -> bool:
    return locator.evaluate("e => { const r = e.getBoundingClientRect(); "
                            "return r.top >= 0 && r.top < window.innerHeight; }")


def test_a_link_to_a_turn_opens_its_page_marked_and_a_reload_keeps_it(server, shots) -> None:
    """/kodning?interview=..&tur=.. shows the page with that turn, framed and scrolled to; a reload
    shows the same turns. The file upload on Import speaks Danish."""
    from playwright.sync_api import expect, sync_playwright

    base, store, _ = server
    document = store.documents()[0]
    segments = store.segments(document.id)
    target = segments[min(30, len(segments) - 1)]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = open_signed_in(browser, f"{base}/kodning?interview={document.id}&tur={target.turn_number}")
        turn = page.locator(f".st-key-turn_{target.id}")
        expect(turn).to_be_visible(timeout=30_000)
        _wait_idle(page)
        style = turn.evaluate("e => { const s = getComputedStyle(e); return s.backgroundColor + ' ' + s.boxShadow; }")
        assert "rgb(255, 248, 225)" in style and "rgb(242, 183, 5)" in style, style  # gold tint and edge
        assert _in_view(turn), "the linked turn is scrolled into view"
        shown = page.locator("[class*=st-key-turn_]").evaluate_all("els => els.map(e => e.className)")
        shots(page, "06_link_til_tur")

        page.reload()
        expect(page.locator("[data-testid=stSidebar]")).to_be_visible(timeout=30_000)
        _wait_idle(page)
        sign_in(page, CODER)  # a reload is a new session: the coder signs in again
        turn = page.locator(f".st-key-turn_{target.id}")
        expect(turn).to_be_visible(timeout=30_000)
        _wait_idle(page)
        assert page.locator("[class*=st-key-turn_]").evaluate_all("els => els.map(e => e.className)") == shown
        assert _in_view(turn)
        assert f"interview={document.id}" in page.url and f"tur={target.turn_number}" in page.url

        page.goto(f"{base}/import")
        expect(page.locator("[data-testid=stFileUploaderDropzone]")).to_be_visible(timeout=30_000)
        _wait_idle(page)
        button = page.locator("[data-testid=stFileUploaderDropzone] button p")
        assert button.evaluate("e => getComputedStyle(e, '::after').content") == '"Vælg filer"'
        assert button.evaluate("e => getComputedStyle(e).fontSize") == "0px", "the English 'Upload' is hidden"
        rule = page.locator("[data-testid=stFileUploaderDropzoneInstructions] span")
        assert rule.evaluate("e => getComputedStyle(e, '::after').content") == '"Højst 50 MB pr. fil"'
        shots(page, "07_import_dansk")
        browser.close()


def test_switching_the_language_twice_keeps_the_turns_and_relabels_the_filters(server, shots) -> None:
    """Danish → English → Danish on Kodning: the speaker filter reads "All", then "Alle" again,
    and the same turns stay on the page (the browser keeps a choice as its shown label, so a
    stale Danish "Alle" once matched no option and hid every turn)."""
    from playwright.sync_api import expect, sync_playwright

    base, store, _ = server
    document = store.documents()[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = open_signed_in(browser, f"{base}/kodning?interview={document.id}")
        turns = page.locator("[class*=st-key-turn_]")
        expect(turns.first).to_be_visible(timeout=30_000)
        _wait_idle(page)
        shown = turns.evaluate_all("els => els.map(e => e.className)")
        for language, speaker, everyone in (("English", "Speaker", "All"), ("Dansk", "Taler", "Alle")):
            switch_language(page, language)
            snapshot = page.locator(".st-key-coding_filter_role").aria_snapshot()
            assert f'combobox "{speaker}": {everyone}' in snapshot, snapshot
            expect(turns.first).to_be_visible(timeout=30_000)
            assert turns.evaluate_all("els => els.map(e => e.className)") == shown, language
            assert "taler=" not in page.url, page.url
        shots(page, "07_sprog_skift")
        browser.close()


def test_a_switched_language_keeps_the_round_and_rows_chosen_on_temaer(server, shots) -> None:
    """On Temaer the evaluator picks all rounds and rows by respondent group; Danish → English
    → Danish keeps both choices under the new labels (a stale label once reset the page or
    matched no option)."""
    from playwright.sync_api import expect

    base, _, _ = server
    with signed_in_page(base, "/temaer") as page:
        rounds = page.locator(".st-key-themes_round")
        expect(rounds).to_be_visible(timeout=30_000)
        rounds.get_by_role("combobox").click()
        page.get_by_role("option", name="Alle runder").click()
        _wait_idle(page)
        page.locator(".st-key-themes_by").get_by_text("Respondentgruppe", exact=True).click()
        _wait_idle(page)
        for language, label, everything, group in (("English", "Round", "All rounds", "Respondent group"),
                                                   ("Dansk", "Runde", "Alle runder", "Respondentgruppe")):
            switch_language(page, language)
            snapshot = rounds.aria_snapshot()
            assert f'combobox "{label}": {everything}' in snapshot, snapshot
            rows = page.locator(".st-key-themes_by").aria_snapshot()
            assert f'radio "{group}" [checked]' in rows, rows
        shots(page, "08_temaer_sprog_skift")
