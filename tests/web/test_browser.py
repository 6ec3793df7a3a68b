"""End to end in real headless Chromium (Debian's, via Playwright): the pages a billing team
uses, driven like a person would, against a real uvicorn server on loopback. Screenshots of
each page land in ``test-artifacts/web/`` for a human to look at."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import uvicorn

from reclaim.config import Settings
from reclaim.web import auth
from reclaim.web.app import create_app

from .conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _log_config(path: Path) -> dict:
    """`reclaim serve`'s logging, every handler writing to ``path`` (and the root logger too,
    so that nothing any library logs escapes the PHI check at the end of this module)."""
    from reclaim.cli.serve import LOG_CONFIG

    config = {**LOG_CONFIG, "handlers": {"stderr": {"class": "logging.FileHandler", "formatter": "plain",
                                                     "filename": str(path)}},
              "root": {"handlers": ["stderr"], "level": "INFO"}}
    return config


@pytest.fixture(scope="module")
def server(tmp_path_factory, ref_store):
    """A real uvicorn server on 127.0.0.1 (random port) with the reference store and three users,
    logging as `reclaim serve` does, into a file the last test reads."""
    home = tmp_path_factory.mktemp("web-home")
    log_path = home / "server.log"
    (home / "refdata.duckdb").symlink_to(ref_store.store_path)
    settings = Settings(home=str(home), max_upload_mb=5)
    app = create_app(settings)
    for name, role in (("maria", "manager"), ("ben", "biller"), ("ada", "admin")):
        auth.add_user(app.state.engine, name, role, PASSWORD)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, access_log=False, log_config=_log_config(log_path))
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield {"url": f"http://127.0.0.1:{port}", "app": app, "log": log_path, "home": home}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh", pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def sign_in(page, server, name: str) -> None:
    page.goto(server["url"] + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/worklist")


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_wrong_password_then_right(page, server):
    page.goto(server["url"] + "/")
    page.wait_for_url("**/login")
    shot(page, "01-login")
    page.fill("input[name=username]", "ben")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.inner_text(".alert")
    page.console_errors.clear()  # the refused sign-in answered 401, as it should
    sign_in(page, server, "ben")
    assert page.inner_text(".side .me").startswith("ben")
    # a biller is not offered the admin pages
    assert page.locator("nav.side a[href='/admin/users']").count() == 0
    assert page.console_errors == []


def test_upload_claims_shows_progress_results_and_check_findings(page, server, shared):
    sign_in(page, server, "ben")
    page.goto(server["url"] + "/uploads")
    claims = REPO / "examples" / "claims" / "recover-medicare.837"
    page.set_input_files("input[data-kind=claims]", [str(claims), str(shared / "x12-samples" / "x12-parser__x12_complex.txt")])
    page.click("form[data-upload=claims] button[type=submit]")
    items = page.locator("form[data-upload=claims] .progress-list li")
    items.nth(1).locator("a").wait_for(timeout=30000)
    first = items.nth(0).inner_text()
    assert "recover-medicare.837" in first and "9 claims" in first
    assert "6 claims" in items.nth(1).inner_text()
    shot(page, "02-upload-progress")
    items.nth(0).locator("a").click()
    page.wait_for_selector("#findings-table")
    text = page.inner_text("#findings-table")
    assert "RC301" in text and "Fix:" in text  # a JW/JZ finding with its fix
    shot(page, "03-check-results")
    assert page.console_errors == []


def test_malformed_upload_is_refused_with_a_clear_message(page, server, tmp_path):
    sign_in(page, server, "ben")
    page.goto(server["url"] + "/uploads")
    junk = tmp_path / "not-a-claim.837"
    junk.write_bytes(b"ISA*00*this is not a complete interchange~")
    page.set_input_files("input[data-kind=claims]", str(junk))
    page.click("form[data-upload=claims] button[type=submit]")
    alert = page.locator("form[data-upload=claims] .progress-list .alert")
    alert.wait_for(timeout=20000)
    assert "no claims could be read" in alert.inner_text()
    shot(page, "04-upload-refused")


def test_code_guide_search_and_guide(page, server):
    sign_in(page, server, "ben")
    page.goto(server["url"] + "/guide")
    page.fill("input[name=q]", "denosumab")
    page.click("form[role=search] button")
    page.wait_for_selector("#search-table")
    assert "J0897" in page.inner_text("#search-table")
    page.click("#search-table a:text('J0897')")
    page.wait_for_selector("#guide")
    guide = page.inner_text("#guide")
    assert "J0897" in guide and "denosumab" in guide.lower()
    shot(page, "05-code-guide")


def test_script_injection_is_shown_inertly(page, server):
    """A hostile file name and search text are displayed as text, never run."""
    sign_in(page, server, "ben")
    page.goto(server["url"] + "/guide?q=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert page.locator("img[src=x]").count() == 0
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert "<img src=x onerror=alert(1)>" in page.inner_text("form[role=search]") or \
        page.input_value("input[name=q]") == "<img src=x onerror=alert(1)>"
    assert dialogs == []


def test_remittance_worklist_update_letter_and_claim(page, server):
    """Upload the 835 (after the claims above), work an item, download its letter, open the claim."""
    sign_in(page, server, "maria")
    page.goto(server["url"] + "/uploads")
    page.set_input_files("input[data-kind=remits]", str(REPO / "examples" / "remits" / "recover-medicare.835"))
    page.click("form[data-upload=remits] button[type=submit]")
    page.locator("form[data-upload=remits] .progress-list li a").wait_for(timeout=60000)
    page.goto(server["url"] + "/worklist")
    rows = page.locator("#worklist-table tbody tr")
    assert rows.count() > 3
    shot(page, "06-worklist")
    # sort by amount, largest first: the column reads in decreasing order
    page.click("#worklist-table th a:text('Amount')")
    page.wait_for_url("**sort=amount**")
    amounts = [float(t.replace("$", "").replace(",", "")) for t in page.locator("#worklist-table tbody td.num:nth-last-child(3)").all_inner_texts()]
    assert len(amounts) == rows.count() and amounts == sorted(amounts, reverse=True)
    # bulk assign the first two rows to ben
    page.locator("#worklist-table tbody input[name=item_ids]").nth(0).check()
    page.locator("#worklist-table tbody input[name=item_ids]").nth(1).check()
    page.select_option("#bulk select[name=assignee]", "ben")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector(".alert.ok:has-text('2 item(s) changed')")
    # open an item that has a letter, move it along, add a note
    for link in page.locator("#worklist-table tbody td:nth-child(4) a").all():
        href = link.get_attribute("href")
        page2 = page.context.new_page()
        page2.goto(server["url"] + href)
        has_letter = page2.locator("#letter-pdf").count() > 0
        page2.close()
        if has_letter:
            break
    page.goto(server["url"] + href)
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=note]", "Called the MAC, reopening requested")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(".alert.ok:has-text('saved')")
    assert page.inner_text("#item-status") == "in progress"
    assert "Called the MAC" in page.inner_text("#history-table")
    shot(page, "07-worklist-item")
    with page.expect_download() as info:
        page.click("#letter-pdf")
    download = info.value
    target = ARTIFACTS / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    page.click("header a[href^='/claims/']")
    page.wait_for_selector("#dollars-table")
    explained = [t for t in page.locator("#dollars-table td.explain").all_inner_texts() if t.strip()]
    assert explained  # each CAS adjustment in plain words
    # submitted vs adjudicated per line, and the claim status in words (CLP02), no internal columns
    lines = page.inner_text("#lines-table")
    assert "BILLED CODE" in lines.upper() and "PAID AS" in lines.upper() and "line_method" not in lines
    assert page.inner_text(".claim-status") in ("denied", "processed as primary", "processed as secondary")
    shot(page, "07b-claim")
    assert page.console_errors == []


def test_dashboard_for_a_manager(page, server):
    sign_in(page, server, "maria")
    page.goto(server["url"] + "/dashboard")
    page.wait_for_selector("h1:text('Denials and recovery')")
    assert page.locator("svg.chart").count() >= 4
    shot(page, "08-dashboard")
    assert page.console_errors == []


def test_admin_adds_a_user(page, server):
    sign_in(page, server, "ada")
    page.goto(server["url"] + "/admin/users")
    page.fill("input[name=name]", "newbiller")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/admin/users'] button[type=submit]")
    page.wait_for_selector("#users-table:has-text('newbiller')")
    shot(page, "09-users")
    page.goto(server["url"] + "/admin/audit")
    assert "user.create" in page.inner_text("#audit-table")
    shot(page, "10-audit")


def test_a_duplicate_upload_links_to_the_first_and_its_uploader_deletes_it(page, server, tmp_path):
    sign_in(page, server, "ben")
    page.goto(server["url"] + "/uploads")
    again = tmp_path / "same-claims-again.837"
    again.write_bytes((REPO / "examples" / "claims" / "recover-medicare.837").read_bytes())
    page.set_input_files("input[data-kind=claims]", str(again))
    page.click("form[data-upload=claims] button[type=submit]")
    link = page.locator("form[data-upload=claims] .progress-list a.duplicate-link")
    link.wait_for(timeout=20000)
    assert "already uploaded on" in page.inner_text("form[data-upload=claims] .progress-list .alert")
    page.console_errors.clear()  # the refused duplicate answered 409, as it should
    shot(page, "11-duplicate")
    link.click()
    page.wait_for_selector("#findings-table")
    # ben uploaded the x12_complex sample himself (above): he may delete it
    page.goto(server["url"] + "/uploads")
    row = page.locator("#uploads-table tbody tr:has-text('x12-parser__x12_complex.txt')")
    row.locator("form.delete-upload button").click()
    page.wait_for_selector(".alert.ok:has-text('deleted the upload')")
    assert page.locator("#uploads-table tbody tr:has-text('x12-parser__x12_complex.txt')").count() == 0
    assert page.console_errors == []


def test_an_admin_sees_sign_in_waits_and_unlocks(page, server):
    from reclaim.web import throttle

    for i in range(12):
        throttle.failed(server["app"].state.engine, "ben", f"203.0.113.{i + 1}")
    sign_in(page, server, "ada")
    page.goto(server["url"] + "/admin/users")
    page.click("button[aria-label='unlock ben']")
    page.wait_for_selector("#users-table")
    assert page.locator("button[aria-label='unlock ben']").count() == 0
    page.fill("#new-token-form input[name=label]", "nightly export")
    page.click("#new-token-form button[type=submit]")
    assert page.inner_text("#new-token").startswith("rct_")
    assert "nightly export" in page.inner_text("#tokens-table")
    shot(page, "12-users-tokens")


UPLOADED = {"claims": [REPO / "examples" / "claims" / "recover-medicare.837"],
            "remits": [REPO / "examples" / "remits" / "recover-medicare.835"]}


def _identifiers(shared) -> dict[str, set[str]]:
    """Every identifier of the claims and remittances this module uploads, read from the files
    by the library's readers: claim numbers (CLM01/CLP01), payer claim numbers (ICN), member
    and patient ids, patient and subscriber names, birth dates, prior authorizations."""
    from reclaim.claims import io as claims_io

    columns = ("patient_control_number", "payer_claim_control_number", "patient_id", "subscriber_id",
               "patient_last_name", "patient_first_name", "subscriber_last_name", "subscriber_first_name",
               "patient_birth_date", "original_claim_number", "prior_auth_number")
    claims = claims_io.read_claims(UPLOADED["claims"] + [shared / "x12-samples" / "x12-parser__x12_complex.txt"])
    remits = claims_io.read_remits(UPLOADED["remits"])
    found: dict[str, set[str]] = {"remitted_claims": {v for v in remits["remit_claims"].column("patient_control_number").to_pylist() if v and len(v) >= 4}}
    for table in (claims["claims"], remits["remit_claims"]):
        for column in columns:
            if column in table.column_names:
                found.setdefault(column, set()).update(
                    str(v) for v in table.column(column).to_pylist() if v is not None and len(str(v)) >= 4)
    return found


def test_the_server_log_holds_no_identifier_of_the_uploaded_claims(page, server, shared):
    """Runs last: after every page above (uploads, results, worklist, items, letters, claim
    pages, searches), no claim number, ICN, member id, name or birth date is in the server log."""
    by_column = _identifiers(shared)
    ids = set().union(*by_column.values())
    assert len(ids) > 20 and by_column["payer_claim_control_number"] and by_column["patient_id"]
    # visit the pages whose paths and query strings carry identifiers
    sign_in(page, server, "maria")
    claim = sorted(by_column["remitted_claims"])[0]  # a claim whose page exists (with its remittance)
    page.goto(server["url"] + f"/worklist?q={claim}")
    page.goto(server["url"] + f"/claims/{claim}")
    page.goto(server["url"] + f"/api/worklist?q={claim}")
    from reclaim.web import audit

    audit.flush()
    for handler in __import__("logging").getLogger().handlers:
        handler.flush()
    log = server["log"].read_text()
    assert "GET /claims/{claim_key:path} 200" in log and "GET /api/worklist 200" in log  # the access log ran
    leaked = sorted(i for i in ids if i in log)
    assert leaked == [], f"{len(leaked)} identifiers in the server log"
