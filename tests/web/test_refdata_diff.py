"""The "Reference changes" page and ``GET /api/refdata/diff``: the release diff of
reclaim.loop.release_diff on the server's store (the mirror's CMS files plus the hand-made
FIXTURE successor of tests/fixtures/releases), joined with the uploaded claims and the open
worklist. Expected rows come from calling the library on the same store and files."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from reclaim.claims.io import read_claims
from reclaim.loop.release_diff import diff_releases
from reclaim.web import audit
from reclaim.web.app import create_app

from .test_api import CLAIMS_837, REMITS_835, token_for, upload

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def release_store(ref_store, refdata_dir, tmp_path_factory) -> Path:
    """The session's mirror store plus the FIXTURE successor (HCPCS 2026-01, ASP/crosswalk/MUE 2026-Q1)."""
    from reclaim.refdata.store import import_dir

    spec = importlib.util.spec_from_file_location("successor_fixture_web", REPO / "tests" / "fixtures" / "releases" / "successor.py")
    successor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(successor)
    work = tmp_path_factory.mktemp("web-releases")
    successor.write_successor(refdata_dir, work / "files")
    store = work / "refdata.duckdb"
    shutil.copyfile(ref_store.store_path, store)
    import_dir(work / "files" / "old_mue", store)
    import_dir(work / "files" / "new", store)
    return store


@pytest.fixture
def diff_app(settings, release_store):
    home = Path(settings.home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "refdata.duckdb").symlink_to(release_store)
    return create_app(settings)


def test_release_diff_api_and_page(diff_app, release_store):
    manager, biller = token_for(diff_app, "maria", "manager"), token_for(diff_app, "ben", "biller")
    assert biller.get("/api/refdata/diff", params={"old": "2025-Q4", "new": "2026-Q1"}).status_code == 403
    assert upload(biller, "claims", CLAIMS_837).status_code == 201
    assert upload(biller, "remits", REMITS_835).status_code == 201

    response = manager.get("/api/refdata/diff", params={"old": "2025-Q4", "new": "2026-Q1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"old_release", "new_release", "datasets", "releases", "counts", "practice", "changes",
                         "impact", "notes"}
    direct = diff_releases(release_store, "all", "2025-Q4", "2026-Q1", claims=read_claims([CLAIMS_837]))
    assert body["counts"] == direct.counts() and len(body["changes"]) == direct.changes.num_rows
    assert body["practice"]["claims"] == direct.practice["claims"] and body["practice"]["open_items"] > 0
    assert {(r["change"], r["code"]) for r in body["impact"]} >= {(r["change"], r["code"])
                                                                   for r in direct.impact.to_pylist()}
    assert ("price_up", "J0897") in {(r["change"], r["code"]) for r in body["changes"]}
    assert any("FIXTURE: not an official release" in n for n in body["notes"])
    assert audit.recent(diff_app.state.engine, action="refdata.diff")[0] >= 1

    page = manager.get("/refdata/diff", params={"old": "2025-Q4", "new": "2026-Q1"})
    assert page.status_code == 200 and 'id="impact"' in page.text and "J0897" in page.text
    chooser = manager.get("/refdata/diff")
    assert '<option value="2026-Q1" selected' in chooser.text and '<option value="2025-10"' in chooser.text


def test_same_release_has_no_changes_and_an_unknown_one_is_a_clear_error(diff_app):
    manager = token_for(diff_app, "maria", "manager")
    same = manager.get("/api/refdata/diff", params={"old": "2025-Q4", "new": "2025-Q4"}).json()
    assert same["changes"] == [] and same["impact"] == [] and same["counts"] == {}
    unknown = manager.get("/api/refdata/diff", params={"old": "2025-Q4", "new": "2031-Q2"})
    assert unknown.status_code == 400 and "2031-Q2" in unknown.json()["detail"]


def test_release_diff_says_when_the_store_is_missing(app, token_client):
    response = token_client("manager").get("/api/refdata/diff", params={"old": "2025-Q4", "new": "2026-Q1"})
    assert response.status_code == 503 and "reclaim data import" in response.json()["detail"]
