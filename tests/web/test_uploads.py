"""Uploads a billing office can trust: a stranger's body is refused before it is read, a
workbook bomb or a giant cell is refused while it is read, a duplicate names the first
upload, an upload (and what it produced) can be deleted by its uploader or an admin, the
corrected CSV is as formula-safe as every export, concurrent uploads queue instead of failing,
and a server killed at any step of an upload leaves nothing half imported."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reclaim.config import Settings
from reclaim.web import audit, auth
from reclaim.web.app import create_app
from reclaim.web.db import engine_for
from reclaim.web.db import uploads as uploads_table

from .conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]
CLAIMS_837 = REPO / "examples" / "claims" / "recover-medicare.837"
REMITS_835 = REPO / "examples" / "remits" / "recover-medicare.835"
CLAIMS_CSV = REPO / "examples" / "claims" / "check-commercial.csv"


def _post(client, kind: str, name: str, data: bytes):
    return client.post("/api/uploads", data={"kind": kind}, files={"file": (name, data)})


def _counts(app) -> dict:
    from reclaim.store import items

    from reclaim.web.services import worklist_store

    worklist_store(app)
    with app.state.engine.connect() as conn:
        states = dict(conn.execute(select(uploads_table.c.state, func.count()).group_by(uploads_table.c.state)).all())
        open_items = conn.execute(select(func.count()).select_from(items)).scalar_one()
    folder = app.state.uploads_dir
    incoming = list((folder / ".incoming").iterdir()) if (folder / ".incoming").is_dir() else []
    stored = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name != ".incoming") if folder.is_dir() else []
    return {"states": states, "items": open_items, "incoming": incoming, "folders": stored}


def test_an_anonymous_body_is_refused_before_a_byte_is_read(app):
    """At the ASGI level: the app answers 401 without ever calling receive()."""
    reads = []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/uploads", "raw_path": b"/api/uploads", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=x"),
                         (b"content-length", str(100 << 20).encode())],
             "client": ("203.0.113.9", 5000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401 and reads == []
    # the sign-in form is the one body read without a session, and it is small
    big_login = TestClient(app).post("/login", content=b"u" * (64 * 1024),
                                     headers={"content-type": "application/x-www-form-urlencoded"})
    assert big_login.status_code == 413


def _xlsx_with_cell(text_length: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    header = CLAIMS_CSV.read_text().splitlines()[0].split(",")
    sheet.append(header)
    row = next(csv.reader([CLAIMS_CSV.read_text().splitlines()[1]]))
    row[header.index("patient_last_name")] = "MARKER"
    sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl (like Excel) will not write a longer cell than 32,767 characters: write the XML ourselves
    made, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in made.infolist():
            archive.writestr(info.filename, made.read(info).replace(b"MARKER", b"A" * text_length))
    return out.getvalue()


def test_a_workbook_with_a_giant_cell_or_a_zip_bomb_is_refused_while_read(app, token_client):
    client = token_client("biller")
    giant = _xlsx_with_cell(40_000)
    assert len(giant) < 100_000  # compresses to almost nothing
    refused = _post(client, "claims", "giant.xlsx", giant)
    assert refused.status_code == 422 and "32,767 characters" in refused.json()["detail"]["message"]
    # a member that inflates far past the limit (2 MB upload limit here: 20 MB decompressed)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/media/filler.bin", b"\0" * (40 << 20))
    assert len(bomb.getvalue()) < 200_000
    refused = _post(client, "claims", "bomb.xlsx", bomb.getvalue())
    assert refused.status_code == 422 and "decompresses to more than" in refused.json()["detail"]["message"]
    assert _counts(app)["states"] == {} and _counts(app)["incoming"] == []
    # a normal workbook still loads
    assert _post(client, "claims", "ok.xlsx", _xlsx_with_cell(20)).status_code == 201


def test_duplicates_name_the_first_upload_and_deletes_remove_everything_derived(full_app):
    app = full_app
    engine = app.state.engine
    for name, role in (("ben", "biller"), ("bea", "biller"), ("ada", "admin")):
        auth.add_user(engine, name, role, PASSWORD)
    client = {n: TestClient(app, headers={"Authorization": f"Bearer {auth.issue_token(engine, n, 'test', scope='write')}"})
              for n in ("ben", "bea", "ada")}
    claims = _post(client["ben"], "claims", "c.837", CLAIMS_837.read_bytes())
    remits = _post(client["ben"], "remits", "r.835", REMITS_835.read_bytes())
    assert claims.status_code == remits.status_code == 201
    again = _post(client["bea"], "remits", "renamed.835", REMITS_835.read_bytes())
    assert again.status_code == 409
    assert again.json()["detail"]["url"] == f"/uploads/{remits.json()['id']}" and "by ben" in again.json()["detail"]["message"]
    before = _counts(app)
    assert before["items"] == remits.json()["summary"]["recovery"]["items"] > 0
    # another biller may not delete ben's upload; ben may; an admin may delete any
    assert client["bea"].delete(f"/api/uploads/{remits.json()['id']}").status_code == 403
    gone = client["ben"].delete(f"/api/uploads/{remits.json()['id']}")
    assert gone.status_code == 200 and gone.json()["items"] == before["items"]
    after = _counts(app)
    assert after["items"] == 0 and after["folders"] == [claims.json()["id"]]
    assert client["ben"].get(f"/api/uploads/{remits.json()['id']}").status_code == 404
    assert client["ada"].delete(f"/api/uploads/{claims.json()['id']}").status_code == 200
    assert _counts(app)["folders"] == []
    # once deleted, the same file can be uploaded again
    assert _post(client["bea"], "remits", "r.835", REMITS_835.read_bytes()).status_code == 201
    actions = [r["action"] for r in audit.recent(engine)[1]]
    assert actions.count("upload.delete") == 2 and "upload.duplicate" in actions and "access.refused" in actions


def test_the_corrected_csv_escapes_formulas_like_every_export(full_app, token_client):
    rows = list(csv.reader(io.StringIO(CLAIMS_CSV.read_text())))
    header = rows[0]
    hostile = {"patient_last_name": '=HYPERLINK("http://203.0.113.5/x","open")', "billing_name": "+cmd|' /C calc'!A0",
               "patient_first_name": "@SUM(A1:A9)"}
    for row in rows[1:]:
        for column, value in hostile.items():
            row[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    client = token_client("biller")
    made = _post(client, "claims", "hostile.csv", out.getvalue().encode())
    assert made.status_code == 201, made.text
    client.get(f"/api/uploads/{made.json()['id']}")  # checked
    corrected = client.post(f"/api/uploads/{made.json()['id']}/corrected")
    assert corrected.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(corrected.text)) for cell in row]
    assert not any(cell[:1] in ("=", "+", "@") for cell in cells)
    for value in hostile.values():
        assert "'" + value in cells
    # numbers are not escaped: a charge stays a number
    assert any(cell.replace(".", "").isdigit() for cell in cells)


def test_concurrent_uploads_queue_and_never_fail(app, token_client):
    client = token_client("biller")
    answers: list[int] = []

    def send(copy: int) -> None:
        answers.append(_post(client, "claims", f"c{copy}.837", CLAIMS_837.read_bytes() + b"\n" * copy).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [201] * 4
    assert _counts(app)["states"] == {"committed": 4}


CRASH_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from fastapi.testclient import TestClient
    from reclaim.config import Settings
    from reclaim.web import uploads
    from reclaim.web.app import create_app

    home, db_url, stage, token, claims, remits = sys.argv[1:7]
    app = create_app(Settings(home=home, db_url=db_url))
    client = TestClient(app, headers={"Authorization": "Bearer " + token})
    with open(claims, "rb") as fh:
        assert client.post("/api/uploads", data={"kind": "claims"}, files={"file": ("c.837", fh.read())}).status_code == 201

    def reached(name):
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)  # as kill -9 of the server

    uploads._reached = reached
    with open(remits, "rb") as fh:
        client.post("/api/uploads", data={"kind": "remits"}, files={"file": ("r.835", fh.read())})
    sys.exit(3)  # the stage was never reached
""")


@pytest.mark.parametrize("stage", ["received", "queued", "processing", "read", "derived", "renamed"])
def test_a_server_killed_at_any_step_of_an_upload_leaves_no_half_import(tmp_path, db_url, stage):
    home = tmp_path / "home"
    settings = Settings(home=str(home), db_url=db_url)
    engine = engine_for(settings.database_url)
    auth.add_user(engine, "ben", "biller", PASSWORD)
    token = auth.issue_token(engine, "ben", "crash test", scope="write")
    done = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(home), db_url, stage, token, str(CLAIMS_837),
                           str(REMITS_835)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    # the next start-up undoes what the killed server left unfinished
    app = create_app(settings)
    counts = _counts(app)
    assert counts["states"] == {"committed": 1}, counts  # only the claims that were committed before
    assert counts["items"] == 0 and counts["incoming"] == [] and len(counts["folders"]) == 1
    # and the same remittance then uploads whole
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    again = _post(client, "remits", "r.835", REMITS_835.read_bytes())
    assert again.status_code == 201 and _counts(app)["items"] == again.json()["summary"]["recovery"]["items"] > 0
