"""Recovery odds learned from a claim/remittance history (reclaim.loop.effectiveness.observed_odds
fed to ``recover(history=...)`` and ``reclaim recover --history-claims/--history-remits``): a
(payer, kind, reason) the history usually recovers ranks higher, one it usually loses lower.
Expected odds follow the documented blend (recovered + PRIOR_WEIGHT x default) / (resolved +
PRIOR_WEIGHT), computed from the observed counts, never typed in."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner

from reclaim.claims.io import read_claims, read_remits
from reclaim.cli import cli
from reclaim.loop.effectiveness import observed_odds, observed_odds_files
from reclaim.recovery import recover
from reclaim.recovery.worklist import PRIOR_WEIGHT

from .conftest import AS_OF, CLAIMS, REMITS, REPO

HISTORY = REPO / "examples" / "history"


@pytest.fixture(scope="module")
def baseline(remits, claims):
    return recover(remits, claims, store=None, as_of=AS_OF, run_edits=False)


def _compare(baseline, remits, claims, outcomes) -> tuple[int, int]:
    """Check every item's odds against the blend; (groups whose odds went up, went down)."""
    with_history = recover(remits, claims, store=None, as_of=AS_OF, run_edits=False, history=outcomes)
    seen = {(r["payer_id"], r["kind"], r["reason"]): r for r in outcomes.to_pylist()}
    before = {r["item_id"]: r for r in baseline.items.to_pylist()}
    up, down = set(), set()
    for item in with_history.items.to_pylist():
        old = before[item["item_id"]]
        key = (item["payer_id"], item["kind"], item["reason"])
        if key not in seen:
            assert item["odds"] == pytest.approx(old["odds"]) and item["priority"] == old["priority"]
            continue
        o = seen[key]
        assert item["odds"] == pytest.approx((o["recovered"] + PRIOR_WEIGHT * old["odds"]) / (o["resolved"] + PRIOR_WEIGHT))
        rate = o["recovered"] / o["resolved"]
        if rate > old["odds"]:
            assert item["odds"] > old["odds"] and item["priority"] >= old["priority"]
            up.add(key)
        elif rate < old["odds"]:
            assert item["odds"] < old["odds"] and item["priority"] <= old["priority"]
            down.add(key)
    return len(up), len(down)


def test_history_that_usually_recovers_raises_the_odds(baseline, remits, claims):
    # examples/history: months of 837/835 for the same payers, where corrected claims got paid
    outcomes = observed_odds(read_claims([HISTORY / "claims"]), read_remits([HISTORY / "remits"]))
    assert outcomes.num_rows > 0
    up, down = _compare(baseline, remits, claims, outcomes)
    assert up >= 1 and down == 0


def test_history_that_never_recovers_lowers_the_odds(baseline, remits, claims):
    # the demo's own denials a year later: never re-adjudicated, so resolved and lost
    outcomes = observed_odds(claims, remits, as_of=AS_OF + dt.timedelta(days=365))
    assert outcomes.num_rows > 0 and sum(outcomes["recovered"].to_pylist()) == 0
    up, down = _compare(baseline, remits, claims, outcomes)
    assert down >= 1 and up == 0


def test_cli_history_options(ref_store, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ref_store.store_path, home / "refdata.duckdb")
    base = ["--home", str(home), "recover", str(REMITS[0]), "--claims", str(CLAIMS[0]), "--no-save", "--no-letters",
            "--as-of", AS_OF.isoformat(), "-o", str(tmp_path / "out")]
    runner = CliRunner()
    run = runner.invoke(cli, base + ["--history-claims", str(HISTORY / "claims"),
                                     "--history-remits", str(HISTORY / "remits")], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert "History: " in run.output and "resolved denials set the odds" in run.output
    half = runner.invoke(cli, base + ["--history-claims", str(HISTORY / "claims")])
    assert half.exit_code == 2 and "--history-remits" in half.output


def test_history_files_stream_to_the_same_odds():
    """The CLI's path (files streamed into DuckDB with a memory cap) = the in-memory batches' path."""
    claim_files, remit_files = [HISTORY / "claims"], [HISTORY / "remits"]
    in_memory = observed_odds(read_claims(claim_files), read_remits(remit_files), as_of=AS_OF)
    streamed, counts = observed_odds_files(claim_files, remit_files, as_of=AS_OF)
    key = ["payer_id", "kind", "reason"]
    assert streamed.num_rows > 0
    assert streamed.sort_by([(k, "ascending") for k in key]).equals(in_memory.sort_by([(k, "ascending") for k in key]))
    assert counts["claims"] == read_claims(claim_files)["claims"].num_rows
    assert counts["remit_claims"] == read_remits(remit_files)["remit_claims"].num_rows
