"""The REST API end to end on real files: uploads (every sample in ../shared/x12-samples and
the bundled examples), check results, recovery worklist, filters and sorting, bulk changes,
exports, letters, claim detail, dashboard. Expected numbers come from calling the library on
the same files, never typed in."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reclaim.claims import io as claims_io
from reclaim.web import audit, auth

REPO = Path(__file__).resolve().parents[2]
CLAIMS_837 = REPO / "examples" / "claims" / "recover-medicare.837"
REMITS_835 = REPO / "examples" / "remits" / "recover-medicare.835"


def token_for(app, name: str, role: str) -> TestClient:
    from .conftest import PASSWORD

    auth.add_user(app.state.engine, name, role, PASSWORD)
    return TestClient(app, headers={"Authorization": f"Bearer {auth.issue_token(app.state.engine, name)}"})


def upload(client: TestClient, kind: str, path: Path, name: str | None = None):
    with path.open("rb") as fh:
        return client.post("/api/uploads", data={"kind": kind}, files={"file": (name or path.name, fh)})


@pytest.fixture
def loaded(full_app):
    """A manager and a biller, with the example claims and their remittance uploaded."""
    manager, biller = token_for(full_app, "maria", "manager"), token_for(full_app, "ben", "biller")
    assert upload(biller, "claims", CLAIMS_837).status_code == 201
    remit = upload(biller, "remits", REMITS_835)
    assert remit.status_code == 201, remit.text
    return {"app": full_app, "manager": manager, "biller": biller, "remit": remit.json()}


def test_upload_counts_match_the_readers(full_app):
    biller = token_for(full_app, "ben", "biller")
    response = upload(biller, "claims", CLAIMS_837)
    assert response.status_code == 201
    body = response.json()
    direct = claims_io.read_claims([CLAIMS_837])
    assert (body["claims"], body["lines"]) == (direct["claims"].num_rows, direct["lines"].num_rows)
    assert body["format"] == "x12" and body["errors"] == 0
    detail = biller.get(f"/api/uploads/{body['id']}").json()
    findings = [f for c in detail["claims"] for line in c["lines"] for f in line["findings"]]
    assert len(findings) == body["summary"]["check"]["findings"] > 0
    assert all(f["message"] and f["code"].startswith("RC") for f in findings)


def test_every_shared_x12_sample_is_loaded_or_refused_with_reasons(full_app, x12_samples):
    """Each real file either loads (counts as the reader gives them, problems listed) or is
    refused with the reader's problems: never a 500, never a silent drop."""
    biller = token_for(full_app, "ben", "biller")
    rows = list(csv.DictReader((x12_samples / "LIST.csv").open()))
    assert len(rows) >= 20
    for row in rows:
        path = x12_samples / row["file"]
        kind = "remits" if row["type"].startswith("835") else "claims"
        response = upload(biller, kind, path)
        direct = claims_io.read_claims([path]) if kind == "claims" else claims_io.read_remits([path])
        main = direct["claims" if kind == "claims" else "remit_claims"].num_rows
        if main:
            assert response.status_code == 201, (row["file"], response.text[:300])
            body = response.json()
            assert body["claims"] == main
            assert body["errors"] + body["warnings"] == direct["read_issues"].num_rows
        else:
            assert response.status_code == 422, (row["file"], response.status_code)
            problems = response.json()["detail"]["problems"]
            assert problems and all(p["message"] for p in problems), row["file"]


def test_remittance_builds_the_worklist_once(loaded, ref_store):
    from reclaim.recovery.engine import recover
    from reclaim.refdata.store import RefStore

    manager = loaded["manager"]
    listed = manager.get("/api/worklist", params={"limit": 1000}).json()
    store = RefStore.open(ref_store)
    direct = recover(claims_io.read_remits([REMITS_835]), claims_io.read_claims([CLAIMS_837]), store=store)
    store.con.close()
    assert listed["total"] == direct.items.num_rows == loaded["remit"]["summary"]["recovery"]["items"] > 0
    assert Decimal(listed["amount"]) == sum(Decimal(str(a)) for a in direct.items.column("amount").to_pylist())
    # the same 835 again: refused as a duplicate naming the first upload, nothing added
    again = upload(loaded["biller"], "remits", REMITS_835)
    assert again.status_code == 409, again.text
    duplicate = again.json()["detail"]
    assert duplicate["upload_id"] == loaded["remit"]["id"] and duplicate["url"] == f"/uploads/{loaded['remit']['id']}"
    assert duplicate["uploaded_by"] == "ben" and "already uploaded on" in duplicate["message"]
    assert manager.get("/api/worklist").json()["total"] == listed["total"]
    dashboard = manager.get("/api/dashboard").json()
    assert dashboard["totals"]["claims"] == direct.remits["remit_claims"].num_rows
    assert sum(m["claims"] for m in dashboard["by_month"]) == dashboard["totals"]["claims"]


def test_worklist_filters_and_sorts(loaded):
    client = loaded["biller"]
    by_amount = client.get("/api/worklist", params={"sort": "amount", "descending": "false", "limit": 1000}).json()["rows"]
    amounts = [Decimal(str(r["amount"])) for r in by_amount]
    assert amounts == sorted(amounts) and len(amounts) > 2
    kinds = {r["kind"] for r in by_amount}
    for kind in kinds:
        rows = client.get("/api/worklist", params={"category": kind}).json()["rows"]
        assert rows and {r["kind"] for r in rows} == {kind}
    floor = amounts[len(amounts) // 2]
    above = client.get("/api/worklist", params={"min_amount": str(floor)}).json()
    assert above["total"] == sum(1 for a in amounts if a >= floor)
    payer = by_amount[0]["payer_name"]
    assert all(r["payer_name"] == payer for r in client.get("/api/worklist", params={"payer": payer}).json()["rows"])
    bad = client.get("/api/worklist", params={"status": "lost"})
    assert bad.status_code == 422 and "unknown status" in bad.json()["detail"]


def test_status_assignment_notes_and_roles(loaded):
    manager, biller = loaded["manager"], loaded["biller"]
    item = manager.get("/api/worklist").json()["rows"][0]["id"]
    # a biller takes an item, cannot give it to someone else
    assert biller.patch(f"/api/worklist/{item}", json={"assignee": "ben"}).json()["assignee"] == "ben"
    refused = biller.patch(f"/api/worklist/{item}", json={"assignee": "maria"})
    assert refused.status_code == 403 and "manager role" in refused.json()["detail"]
    assert biller.patch(f"/api/worklist/{item}", json={"status": "in_progress", "note": "called payer"}).status_code == 200
    wrong = biller.patch(f"/api/worklist/{item}", json={"status": "new"})
    assert wrong.status_code == 200  # in_progress -> new is allowed
    jump = biller.patch(f"/api/worklist/{item}", json={"status": "recovered"})
    assert jump.status_code == 400 and "cannot go from new to recovered" in jump.json()["detail"]
    history = biller.get(f"/api/worklist/{item}").json()["history"]
    assert [h["field"] for h in history] == ["created", "assignee", "status", "note", "status"]
    assert all(h["actor"] == "ben" or h["actor"] == f"upload {loaded['remit']['id']}" for h in history)
    # bulk: managers only
    ids = [r["id"] for r in manager.get("/api/worklist").json()["rows"][:3]]
    assert biller.post("/api/worklist/bulk", json={"item_ids": ids, "assignee": "ben"}).status_code == 403
    done = manager.post("/api/worklist/bulk", json={"item_ids": ids + ["nosuchitem"], "assignee": "ben"}).json()
    assert done["changed"] == ids and done["refused"][0]["id"] == "nosuchitem"
    assert manager.get("/api/worklist", params={"assignee": "ben"}).json()["total"] >= 3
    actions = [r["action"] for r in audit.recent(loaded["app"].state.engine)[1]]
    assert "worklist.bulk" in actions and "worklist.update" in actions


def test_exports_csv_and_xlsx(loaded):
    manager = loaded["manager"]
    total = manager.get("/api/worklist").json()["total"]
    response = manager.get("/api/worklist.csv")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == total and rows[0]["id"]
    xlsx = manager.get("/api/worklist.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == total + 1 and sheet.cell(1, 1).value == "id"
    # a biller exports their own items, whatever filter they ask for
    biller = loaded["biller"]
    mine = [r["id"] for r in manager.get("/api/worklist").json()["rows"][:2]]
    for item in mine:
        assert biller.patch(f"/api/worklist/{item}", json={"assignee": "ben"}).status_code == 200
    own = list(csv.DictReader(io.StringIO(biller.get("/api/worklist.csv", params={"assignee": "maria"}).text)))
    assert sorted(r["id"] for r in own) == sorted(mine) and {r["assignee"] for r in own} == {"ben"}


def test_claim_numbers_with_a_slash_reach_their_page_and_pages_keep_keyset(loaded):
    biller = loaded["biller"]
    missing = biller.get("/api/claims/ABC/123")
    assert missing.status_code == 404 and "no claim or remittance" in missing.json()["detail"]  # the route, not a 404 of no route
    first = biller.get("/api/worklist", params={"limit": 2, "sort": "amount"}).json()
    second = biller.get("/api/worklist", params={"limit": 2, "sort": "amount", "after": first["next"]}).json()
    whole = biller.get("/api/worklist", params={"limit": 4, "sort": "amount"}).json()
    assert [r["id"] for r in first["rows"] + second["rows"]] == [r["id"] for r in whole["rows"]]
    claim = whole["rows"][0]["patient_control_number"]
    found = biller.get("/api/worklist", params={"q": claim.lower()}).json()["rows"]
    assert found and all(r["patient_control_number"].startswith(claim.upper()[:len(claim)]) or
                         r["patient_control_number"] == claim for r in found)


def test_letters_claim_detail_and_guide(loaded):
    from reclaim.documents.letters import LETTER_ACTIONS

    biller = loaded["biller"]
    rows = biller.get("/api/worklist", params={"limit": 1000}).json()["rows"]
    passed = {r["id"] for r in rows if biller.get(f"/api/worklist/{r['id']}").json()["data"].get("deadline_passed")}
    with_letter = [r for r in rows if r["action"] in LETTER_ACTIONS and r["id"] not in passed]
    assert with_letter
    for item_id in passed:
        late = biller.get(f"/api/worklist/{item_id}/letter.pdf")
        assert late.status_code in (404, 409) and "letter" in late.json()["detail"]
    pdf = biller.get(f"/api/worklist/{with_letter[0]['id']}/letter.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    docx = biller.get(f"/api/worklist/{with_letter[0]['id']}/letter.docx")
    assert zipfile.ZipFile(io.BytesIO(docx.content)).namelist()
    without = [r for r in rows if r["action"] not in LETTER_ACTIONS]
    if without:
        assert biller.get(f"/api/worklist/{without[0]['id']}/letter.pdf").status_code == 404
    claim_key = with_letter[0]["patient_control_number"]
    claim = biller.get(f"/api/claims/{claim_key}").json()
    assert claim["lines"] and claim["remit_lines"] and claim["dollars"]
    # every charged dollar is accounted for (paid or an adjustment), and every adjustment explained
    total = sum(Decimal(str(d["amount"])) for d in claim["dollars"])
    assert total == sum(Decimal(str(rc["total_charge"])) for rc in claim["remit_claims"])
    assert all(d["explanation"] for d in claim["dollars"] if d["source"] == "CAS")
    assert biller.get("/api/claims/NO-SUCH-CLAIM").status_code == 404
    hits = biller.get("/api/guide/search", params={"q": "denosumab"}).json()
    assert "J0897" in [h["code"] for h in hits]
    guide = biller.get("/api/guide/J0897").json()
    assert guide["code"] == "J0897" and guide["sources"]
    actions = [r["action"] for r in audit.recent(loaded["app"].state.engine)[1]]
    assert "letter.download" in actions and "claim.view" in actions


def test_guide_says_when_the_store_is_missing(app, token_client):
    response = token_client("biller").get("/api/guide/J0897")
    assert response.status_code == 503 and "reclaim data import" in response.json()["detail"]


def test_mechanical_fixes_download_a_corrected_file(full_app, tmp_path):
    biller = token_for(full_app, "ben", "biller")
    body = upload(biller, "claims", CLAIMS_837).json()
    assert isinstance(body["summary"]["check"], dict), body["summary"]["check"]
    detail = biller.get(f"/api/uploads/{body['id']}").json()
    fixable = [f for c in detail["claims"] for line in c["lines"] for f in line["findings"] if f["fix_action"]]
    changes = biller.get(f"/api/uploads/{body['id']}/fixes").json()["changes"]
    assert fixable and len(changes) >= 1
    response = biller.post(f"/api/uploads/{body['id']}/corrected")
    assert response.status_code == 200 and int(response.headers["x-reclaim-changes"]) == len(changes)
    corrected = tmp_path / "corrected.837"
    corrected.write_bytes(response.content)
    batch = claims_io.read_claims([corrected])
    pcn = {c["claim_id"]: c["patient_control_number"] for c in batch["claims"].to_pylist()}
    lines = {(pcn[l["claim_id"]], l["line_number"]): l for l in batch["lines"].to_pylist()}
    assert batch["claims"].num_rows == body["claims"]
    for change in changes:
        line = lines[(change["patient_control_number"], change["line_number"])]
        assert str(line[change["field"]]) == change["after"]
    remits = token_for(full_app, "rita", "biller")
    assert remits.get(f"/api/uploads/{upload(remits, 'remits', REMITS_835).json()['id']}/fixes").status_code == 404


def test_work_ownership_is_the_services_rule_for_every_door(loaded):
    """Billers change their own and unassigned items, take unassigned ones and give back their
    own; managers change and assign anything; a refused change changes nothing."""
    app, manager, ben = loaded["app"], loaded["manager"], loaded["biller"]
    rita = token_for(app, "rita", "biller")
    first, second = [r["id"] for r in manager.get("/api/worklist").json()["rows"][:2]]
    assert ben.patch(f"/api/worklist/{first}", json={"assignee": "ben"}).status_code == 200
    # rita can neither take over nor unassign nor work ben's item
    for change in ({"assignee": "rita"}, {"assignee": ""}, {"status": "in_progress"}, {"note": "mine now"}):
        refused = rita.patch(f"/api/worklist/{first}", json=change)
        assert refused.status_code == 403 and "assigned to ben" in refused.json()["detail"], change
    assert manager.get(f"/api/worklist/{first}").json()["assignee"] == "ben"
    # ben gives it back: NULL, so the unassigned filter finds it again
    assert ben.patch(f"/api/worklist/{first}", json={"assignee": ""}).json()["assignee"] is None
    unassigned = manager.get("/api/worklist", params={"assignee": "(unassigned)", "limit": 1000}).json()["rows"]
    assert first in [r["id"] for r in unassigned]
    # a manager reassigns anyone's item
    assert ben.patch(f"/api/worklist/{second}", json={"assignee": "ben"}).status_code == 200
    assert manager.patch(f"/api/worklist/{second}", json={"assignee": "rita"}).json()["assignee"] == "rita"
    # a bulk change refused for an item changes nothing of it (here: an impossible status jump)
    done = manager.post("/api/worklist/bulk", json={"item_ids": [first], "assignee": "maria", "status": "recovered"}).json()
    assert done["changed"] == [] and done["refused"][0]["id"] == first
    after = manager.get(f"/api/worklist/{first}").json()
    assert after["assignee"] is None and after["status"] == "new"
    actions = [r for r in audit.recent(app.state.engine)[1] if r["action"] == "access.refused"]
    assert actions and '"why": "ownership"' in actions[0]["detail"]


def test_upload_results_come_a_page_at_a_time(loaded):
    biller = loaded["biller"]
    claims_upload = biller.get("/api/uploads", params={"kind": "claims"}).json()["rows"][0]
    whole = biller.get(f"/api/uploads/{claims_upload['id']}").json()
    first = biller.get(f"/api/uploads/{claims_upload['id']}", params={"limit": 4}).json()
    rest = biller.get(f"/api/uploads/{claims_upload['id']}", params={"limit": 4, "offset": first["page"]["next_offset"]}).json()
    assert first["page"]["total"] == whole["page"]["total"] == claims_upload["claims"] > 4
    assert [c["claim_id"] for c in first["claims"] + rest["claims"]] == [c["claim_id"] for c in whole["claims"]][:8]
    remit = loaded["remit"]
    items = biller.get(f"/api/uploads/{remit['id']}", params={"limit": 3}).json()
    assert len(items["items"]) == min(3, remit["summary"]["recovery"]["items"])
    assert items["page"]["total"] == remit["summary"]["recovery"]["items"]
