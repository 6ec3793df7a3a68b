"""CMS OPPS Addendum B in its official layout (tests/fixtures/refdata/opps: a 2025-Q4 FIXTURE,
SIs and rates invented): detection, quarter, money cells, look-ups, `data status`, `data pull`."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import shutil
import threading
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.cli import main
from reclaim.errors import RefDataError
from reclaim.refdata import opps
from reclaim.refdata.sources import urls_for
from reclaim.refdata.store import RefStore, import_dir, recognize

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "refdata" / "opps" / "2025 October Web Addendum B_FIXTURE.csv"


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_official_layout_is_read():
    assert recognize(FIXTURE) is opps.load  # not taken for the ASP file (both start "HCPCS Code")
    [item] = opps.load(FIXTURE)
    assert (item.dataset, item.release, item.effective_from, item.effective_to) == (
        "opps_addendum_b", "2025-Q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    rows = {r["hcpcs"]: r for r in item.rows.to_pylist()}
    assert rows["J7050"]["status_indicator"] == "N" and rows["J7050"]["apc"] is None
    assert rows["J7050"]["payment_rate"] is None and rows["J7050"]["minimum_copay"] is None
    assert rows["96365"]["payment_rate"] == Decimal("289.61") and rows["96365"]["relative_weight"] == Decimal("2.9470")
    assert rows["J0897"]["national_copay"] is None  # a lone "." is CMS's "none", not zero
    assert rows["Q5101"]["status_indicator"] == "G" and rows["Q5101"]["changed"] is True
    assert rows["Q5101"]["pass_through_expiration"] == "2027" and rows["J0897"]["changed"] is False


def test_quarter_from_the_name_or_an_error(tmp_path):
    text = FIXTURE.read_bytes()
    for name, start in (("july-2026-opps-addendum-b.csv", dt.date(2026, 7, 1)),
                        ("2026 January Web Addendum B.12.29.25.csv", dt.date(2026, 1, 1))):
        (tmp_path / name).write_bytes(text.replace(b"October 2025", b"the quarter"))
        assert opps.load(tmp_path / name)[0].effective_from == start
    (tmp_path / "addendum.csv").write_bytes(text.replace(b"October 2025", b"the quarter"))
    with pytest.raises(RefDataError, match="cannot tell the Addendum B quarter"):
        opps.load(tmp_path / "addendum.csv")
    bad = text.replace(b"$289.61", b"about 290")
    (tmp_path / "october-2025-bad.csv").write_bytes(bad)
    with pytest.raises(RefDataError, match=r"record 8: Payment Rate: expected an amount such as \$136.02, found 'about 290'"):
        opps.load(tmp_path / "october-2025-bad.csv")


def test_store_look_up_by_quarter(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    shutil.copy(FIXTURE, folder)
    path = tmp_path / "refdata.duckdb"
    import_dir(folder, path)
    with RefStore.open(path) as ref:
        assert ref.opps("j7050", on="2025-11-04")["status_indicator"] == "N"
        assert ref.opps("J0897", on="2025-12-31")["apc"] == "1300"
        assert ref.opps("J0897", on="2026-01-01") is None  # never another quarter's SI
        status = {r["dataset"]: r for r in ref.status()}
        assert status["opps_addendum_b"]["release"] == "2025-Q4" and status["opps_addendum_b"]["rows"] == 8


def test_status_says_not_loaded(ref_store, capsys):
    code, out, _ = run(capsys, "--home", ref_store.home, "data", "status", "--format", "json")
    assert code == 0
    rows = {r["dataset"]: r for r in json.loads(out)["releases"]}
    assert rows["opps_addendum_b"]["release"] == "not loaded"
    assert rows["opps_addendum_b"]["notes"] == "no opps addendum b data loaded"


def test_pull_knows_the_official_url(tmp_path, capsys):
    assert urls_for("opps", "2026-Q3") == ["https://www.cms.gov/files/zip/july-2026-opps-addendum-b.zip"]
    assert urls_for("opps", "2025-10") == ["https://www.cms.gov/files/zip/october-2025-opps-addendum-b.zip"]
    root = tmp_path / "www"
    (root / "files/zip").mkdir(parents=True)
    with zipfile.ZipFile(root / "files/zip/october-2025-opps-addendum-b.zip", "w") as zf:
        zf.write(FIXTURE, "508 Version/2025 October Web Addendum B_FIXTURE.csv")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        home = tmp_path / "home"
        code, out, err = run(capsys, "--home", str(home), "data", "pull", "--dataset", "opps", "--release", "2025-Q4",
                             "--base-url", f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, err
    assert "opps_addendum_b 2025-Q4" in out
    with RefStore.open(home / "refdata.duckdb") as ref:
        assert ref.opps("Q5101", on="2025-10-01")["status_indicator"] == "G"
