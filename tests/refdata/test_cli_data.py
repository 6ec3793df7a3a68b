"""``reclaim data import/status/pull`` end to end (pull over a loopback HTTP server)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from reclaim.cli import main
from reclaim.refdata.store import RefStore


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_of_the_shared_store(ref_store, capsys):
    code, out, _ = run(capsys, "--home", ref_store.home, "data", "status", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    rows = {r["dataset"]: r for r in payload["releases"]}
    assert rows["hcpcs"]["rows"] == 8846 and rows["hcpcs"]["sha256"].startswith("6fcd04186caa") and len(rows["hcpcs"]["sha256"]) == 64
    assert rows["coverage"]["release"] == "not loaded"
    assert payload["unparsed_drug_units"]
    today = {r["dataset"]: r for r in payload["in_force_today"]}
    assert today["mue_practitioner"]["newest_release"] == "2026-Q2"
    assert today["icd10"]["newest_release"] == "FY2026-04"
    for r in today.values():  # whether it covers today follows from the dates, whatever today is
        if r["covers_today"] is not None:
            assert r["covers_today"] == (r["effective_from"] <= r["today"] <= r["effective_to"])
    code, out, _ = run(capsys, "--home", ref_store.home, "data", "status")
    assert "HCPC2025_OCT_ANWEB.xlsx" in out and "not loaded" in out and "[handwritten]" in out
    assert "newest release held per dataset, today" in out and "CMS NCCI MUE practitioner" in out
    assert "drug descriptors with no parsable billing unit" in out


def test_import_reports_loaded_and_skipped(refdata_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    shutil.copytree(refdata_dir / "cms_asp", folder)
    code, out, err = run(capsys, "--home", str(tmp_path / "home"), "data", "import", str(folder))
    assert code == 0
    assert "loaded asp_pricing 2025-Q4: 1,012 rows from asp_pricing.csv" in out
    assert "skipped cms_crosswalk_reference.csv: CSV with no recognized header" in err


def test_status_without_a_store(tmp_path, capsys):
    code, _, err = run(capsys, "--home", str(tmp_path), "data", "status")
    assert code == 2 and "no reference store at" in err and "reclaim data import DIR" in err


def test_import_error_is_a_message_not_a_traceback(refdata_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    data = (refdata_dir / "cms_hcpcs/2025-10/HCPC2025_OCT_ANWEB.xlsx").read_bytes()
    (folder / "HCPC2025_OCT_ANWEB.xlsx").write_bytes(data[:1000])
    (folder / "asp_pricing.csv").write_bytes((refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv").read_bytes())
    code, _, err = run(capsys, "--home", str(tmp_path / "home"), "data", "import", str(folder))
    assert code == 2 and "HCPC2025_OCT_ANWEB.xlsx: not a readable xlsx workbook" in err
    assert "the reference store was not changed" in err and "Traceback" not in err
    assert not (tmp_path / "home/refdata.duckdb").exists()


@pytest.fixture()
def cms_mirror(refdata_dir, tmp_path):
    """A loopback HTTP server serving the ASP zips, built here from the mirror's CSVs, under the
    publisher's path (/files/zip/october-2025-asp-...zip)."""
    root = tmp_path / "www"
    (root / "files/zip").mkdir(parents=True)
    with zipfile.ZipFile(root / "files/zip/october-2025-asp-pricing-file.zip", "w") as zf:
        zf.write(refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv", "Oct 2025 ASP Pricing File.csv")
        zf.write(refdata_dir / "cms_asp/2025-Q4/noc_pricing.csv", "Oct 2025 NOC Pricing File.csv")
    inner = tmp_path / "crosswalk.zip"
    with zipfile.ZipFile(inner, "w") as zf:  # CMS nests zips: the loader must extract them too
        zf.write(refdata_dir / "cms_asp/2025-Q4/asp_crosswalk.csv", "Oct 2025 ASP NDC-HCPCS Crosswalk.csv")
    with zipfile.ZipFile(root / "files/zip/october-2025-asp-ndc-hcpcs-crosswalk.zip", "w") as zf:
        zf.write(inner, "crosswalk.zip")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pull_over_loopback(cms_mirror, tmp_path, capsys):
    home = tmp_path / "home"
    code, out, err = run(capsys, "--home", str(home), "data", "pull", "--dataset", "asp", "--release", "2025-10",
                         "--base-url", cms_mirror)
    assert code == 0, err
    assert "loaded ndc_crosswalk 2025-Q4: 8,245 rows" in out
    with RefStore.open(home / "refdata.duckdb") as ref:
        [row] = [r for r in ref.releases() if r["dataset"] == "asp_pricing"]
        assert row["source"].startswith(cms_mirror + "/files/zip/october-2025-asp-pricing-file.zip")
        assert ref.crosswalk_by_ndc("55513-0730-01", on="2025-10-01")[0]["billing_units"] == 120


def test_pull_offline(tmp_path, capsys):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = run(capsys, "--home", str(tmp_path), "data", "pull", "--dataset", "hcpcs", "--release", "2026-01",
                       "--base-url", f"http://127.0.0.1:{port}")
    assert code == 2
    assert "could not reach 127.0.0.1" in err
    assert "january-2026-alpha-numeric-hcpcs-file.zip) and run `reclaim data import DIR`" in err
    assert not (tmp_path / "refdata.duckdb").exists()


def test_pull_missing_release(cms_mirror, tmp_path, capsys):
    code, _, err = run(capsys, "--home", str(tmp_path), "data", "pull", "--dataset", "asp", "--release", "2026-Q1",
                       "--base-url", cms_mirror)
    assert code == 2 and "answered HTTP 404" in err
