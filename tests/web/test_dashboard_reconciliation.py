"""The dashboard shows where every remittance dollar went, as `reclaim recover` stored it in the
worklist database: from the command line and from an upload, the same table (issue #13)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from reclaim.cli import cli
from reclaim.store import WorklistStore

from .conftest import Browser
from .test_api import token_for, upload

REPO = Path(__file__).resolve().parents[2]
MEDICARE_835 = REPO / "examples" / "remits" / "recover-medicare.835"
ACME_835 = REPO / "examples" / "remits" / "recover-acme.835"


def test_dashboard_shows_the_reconciliation_from_the_cli_and_from_uploads(full_app, settings, ref_store, tmp_path, make_user):
    home = tmp_path / "cli-home"
    home.mkdir()
    shutil.copy(ref_store.store_path, home / "refdata.duckdb")
    res = CliRunner().invoke(cli, ["--home", str(home), "recover", str(MEDICARE_835), "--db", settings.database_url,
                                   "--no-letters", "--as-of", "2025-12-15", "-o", str(tmp_path / "out")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    stored = WorklistStore(settings.database_url).reconciliation()
    cli_rows = len(stored)
    assert {r["payer"] for r in stored} == {"MEDICARE PART B"}
    # the same file recovered again replaces its rows: nothing counted twice
    CliRunner().invoke(cli, ["--home", str(home), "recover", str(MEDICARE_835), "--db", settings.database_url,
                             "--no-letters", "--as-of", "2025-12-15", "-o", str(tmp_path / "out")], catch_exceptions=False)
    assert WorklistStore(settings.database_url).reconciliation() == stored
    biller = token_for(full_app, "ben", "biller")
    assert upload(biller, "remits", ACME_835).status_code == 201
    rows = WorklistStore(settings.database_url).reconciliation()
    assert len(rows) > cli_rows and "ACME HEALTH PLAN" in {r["payer"] for r in rows}
    make_user("maria", "manager")
    page = Browser(full_app, "maria").get("/dashboard").text
    assert "Where every remittance dollar went" in page
    for payer in ("MEDICARE PART B", "ACME HEALTH PLAN"):
        assert payer in page
    assert page.count("ties to the cent") == 2 and "does not tie" not in page
    assert "worklist: reopening" in page or "worklist: redetermination" in page
