"""The front door (#19.1, #19.2, #12.9): every command, given a bad path or a bad option value,
answers with a one-line error that says what to do and exit status 2 — never a traceback.

The commands run through ``reclaim.cli.main``, the console entry point itself (the same
function ``reclaim`` runs), in-process so that the whole matrix stays fast; the four cases the
issue names also run as real subprocesses."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLAIMS = EXAMPLES / "claims" / "check-medicare.837"
REMITS = EXAMPLES / "remits" / "recover-medicare.835"
REMIT_CLAIMS = EXAMPLES / "claims" / "recover-medicare.837"


# (args, what the error must say); {claims} {remits} {remit_claims} are the example files
BAD = {
    # check
    "check-missing-input": (["check", "missing.837"], "does not exist"),
    "check-fix-missing-folder": (["check", "{claims}", "--fix", "-o", "missing-folder/x.837"],
                                 "the folder missing-folder does not exist"),
    "check-fix-output-under-a-file": (["check", "{claims}", "--fix", "-o", "afile/x.837"], "afile is a file"),
    "check-fix-output-unwritable": (["check", "{claims}", "--fix", "-o", "/proc/x.837"], "/proc/x.837"),
    "check-output-without-fix": (["check", "{claims}", "-o", "out.837"], "without --fix nothing is written"),
    "check-bad-format": (["check", "{claims}", "--format", "yaml"], "'yaml' is not one of"),
    "check-bad-date": (["check", "{claims}", "--date-of-check", "2025-13-45"], "--date-of-check"),
    "check-missing-policy": (["check", "{claims}", "--policy", "nosuch.yaml"], "policy file not found"),
    "check-garbage-policy": (["check", "{claims}", "--policy", "garbage.yaml"], "garbage.yaml"),
    "check-broken-policy": (["check", "{claims}", "--policy", "broken.yaml"], "not valid YAML"),
    "check-missing-history": (["check", "{claims}", "--history", "missing.837"], "does not exist"),
    "check-unknown-edit": (["check", "{claims}", "--select", "RC999"], "RC999"),
    "check-bad-engine": (["--engine", "bogus", "check", "{claims}"], "'bogus' is not one of"),
    "check-binary-input": (["check", "binary.835"], "could not be read at all (binary.835)"),
    "check-empty-input": (["check", "empty.835"], "could not be read at all (empty.835)"),
    "check-a-remittance": (["check", "{remits}"], "could not be read at all"),
    # convert
    "convert-output-in-proc": (["convert", "{claims}", "-o", "/proc/x"], "-o /proc/x: cannot create this folder"),
    "convert-output-is-a-file": (["convert", "{claims}", "-o", "afile"], "afile"),
    "convert-bad-format": (["convert", "{claims}", "-o", "out", "--format", "xml"], "'xml' is not one of"),
    "convert-no-files": (["convert", "-o", "out"], "Missing argument"),
    # recover
    "recover-missing-input": (["recover", "missing.835"], "does not exist"),
    "recover-output-in-proc": (["recover", "{remits}", "--claims", "{remit_claims}", "-o", "/proc/x", "--no-save"],
                               "-o /proc/x: cannot create this folder"),
    "recover-output-is-a-file": (["recover", "{remits}", "-o", "afile", "--no-save"], "afile"),
    "recover-bad-memory-limit": (["recover", "{remits}", "-o", "out", "--no-save", "--memory-limit", "bogus"],
                                 "'bogus' is not a memory size: give a number and a unit, e.g. 2GB"),
    "recover-tiny-memory-limit": (["recover", "{remits}", "-o", "out", "--no-save", "--memory-limit", "1MB"],
                                  "at least 64MB"),
    "recover-missing-policy": (["recover", "{remits}", "-o", "out", "--no-save", "--policy", "nosuch.yaml"],
                               "policy file not found"),
    "recover-garbage-terms": (["recover", "{remits}", "-o", "out", "--no-save", "--terms", "garbage.yaml"],
                              "garbage.yaml"),
    "recover-broken-terms": (["recover", "{remits}", "-o", "out", "--no-save", "--terms", "broken.yaml"],
                             "not valid YAML"),
    "recover-missing-templates": (["recover", "{remits}", "--templates", "missing"], "does not exist"),
    "recover-bad-db-url": (["recover", "{remits}", "-o", "out", "--db", "bogus://x"], "URL not usable"),
    "recover-db-in-proc": (["recover", "{remits}", "-o", "out", "--db", "sqlite:////proc/x/w.sqlite"], "/proc/x"),
    "recover-bad-threshold": (["recover", "{remits}", "--threshold", "abc"], "'abc' is not a valid float"),
    "recover-bad-as-of": (["recover", "{remits}", "--as-of", "2025-99-99"], "--as-of"),
    "recover-half-history": (["recover", "{remits}", "-o", "out", "--no-save", "--history-claims", "{claims}"],
                             "--history-remits"),
    "recover-binary-input": (["recover", "binary.835", "-o", "out", "--no-save", "--no-letters"],
                             "could not be read at all (binary.835)"),
    "recover-empty-input": (["recover", "empty.835", "-o", "out", "--no-save", "--no-letters"],
                            "could not be read at all (empty.835)"),
    "recover-claims-as-remits": (["recover", "{remit_claims}", "-o", "out", "--no-save", "--no-letters"],
                                 "could not be read at all"),
    # code, ndc, rules
    "code-bad-date": (["code", "J0897", "--date", "bogus"], "--date"),
    "code-not-a-code": (["code", "NOPE"], "not a HCPCS Level II code"),
    "code-nothing-asked": (["code"], "give a HCPCS code"),
    "code-no-store": (["--home", "emptyhome", "code", "J0897"], "reclaim data import"),
    "code-bad-format": (["code", "J0897", "--format", "pdf"], "'pdf' is not one of"),
    "ndc-not-an-ndc": (["ndc", "bogus"], "not an NDC"),
    "rules-unknown-edit": (["rules", "RC999"], "reclaim rules"),
    "rules-missing-claims": (["rules", "--effectiveness", "--claims", "missing"], "does not exist"),
    "rules-half-history": (["rules", "--effectiveness", "--claims", "{claims}"], "--remits"),
    # data
    "data-import-missing": (["data", "import", "missing"], "does not exist"),
    "data-import-a-file": (["data", "import", "afile"], "is a file"),
    "data-import-nothing-official": (["data", "import", "emptyhome"], "no official reference file"),
    "data-import-home-in-proc": (["--home", "/proc/x", "data", "import", "emptyhome"], "--home /proc/x"),
    "data-import-home-is-a-file": (["--home", "afile", "data", "import", "emptyhome"], "--home afile is a file"),
    "data-status-no-store": (["--home", "emptyhome", "data", "status"], "no reference store"),
    "data-status-bad-format": (["data", "status", "--format", "xml"], "'xml' is not one of"),
    "data-diff-unknown-release": (["data", "diff", "2025-Q4", "2031-Q1"], "2031-Q1"),
    "data-pull-bad-dataset": (["data", "pull", "--dataset", "bogus"], "'bogus' is not one of"),
    "data-pull-bad-release": (["--home", "emptyhome", "data", "pull", "--release", "bogus"], "expected YYYY-MM"),
    "data-pull-unreachable": (["--home", "emptyhome", "data", "pull", "--base-url", "http://127.0.0.1:1"],
                              "could not reach 127.0.0.1"),
    "data-pull-source-missing": (["--home", "emptyhome", "--refdata-source", "nosuchdir", "data", "pull"],
                                 "nosuchdir: not a folder"),
    # worklist, users, serve
    "worklist-db-in-proc": (["worklist", "--db", "sqlite:////proc/x/w.sqlite", "list"], "/proc/x"),
    "worklist-bad-db-url": (["worklist", "--db", "bogus://x", "list"], "URL not usable"),
    "worklist-unknown-item": (["worklist", "show", "NOPE"], "NOPE"),
    "worklist-bad-status": (["worklist", "status", "NOPE", "bogus"], "'bogus' is not one of"),
    "users-bad-db-url": (["--db-url", "bogus://x", "users", "list"], "the database URL is not usable"),
    "users-db-unreachable": (["--db-url", "postgresql://nobody@127.0.0.1:1/x", "users", "list"],
                             "cannot use the database"),
    "users-unknown-user": (["users", "role", "nobody", "admin"], "nobody"),
    "users-bad-role": (["users", "add", "ana", "--role", "boss"], "'boss' is not one of"),
    "serve-bad-port": (["serve", "--port", "99999"], "99999"),
    "serve-bad-db-url": (["--db-url", "bogus://x", "serve"], "the database URL is not usable"),
    # the command line itself
    "unknown-command": (["nosuchcommand"], "No such command"),
    "unknown-option": (["check", "{claims}", "--no-such-option"], "No such option"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_paths_and_values_get_a_clear_error_not_a_traceback(case, work, reclaim):
    args, expected = BAD[case]
    paths = {"claims": CLAIMS, "remits": REMITS, "remit_claims": REMIT_CLAIMS}
    status, out, err = reclaim(*(a.format(**paths) for a in args))
    assert status == 2, (out, err)
    assert "Traceback" not in out + err
    assert "unexpected error" not in err  # the catch-all for bugs: each case here has its own message
    assert expected in err, err
    first = next(line for line in err.splitlines() if line.startswith(("error:", "Error:")))
    assert len(first) < 400  # one line, not a dump


@pytest.mark.parametrize("value", ["RECLAIM_CONFIG=missing.toml", "RECLAIM_CONFIG=broken.yaml",
                                   "RECLAIM_ENGINE=bogus", "RECLAIM_UNDERPAYMENT_THRESHOLD=abc",
                                   "RECLAIM_FORMAT=yaml"])
def test_bad_settings_get_a_clear_error(value, work, reclaim, monkeypatch):
    name, setting = value.split("=")
    monkeypatch.setenv(name, setting)
    status, out, err = reclaim("code", "J0897", "--date", "2025-12-15")
    assert status == 2 and "Traceback" not in out + err
    assert err.startswith("error: ") and (name in err or setting in err), err


def test_a_bug_is_named_by_place_never_by_its_message(work, capsys, monkeypatch):
    """The catch-all: a bug's message may quote claim data, so only its type and place are shown;
    RECLAIM_DEBUG=1 gives the traceback to a developer."""
    from reclaim.cli import failures

    def boom():
        raise ValueError("patient JANE DOE born 1950-01-01")

    status = failures.run(boom)
    err = capsys.readouterr().err
    assert status == 2 and "JANE DOE" not in err and "Traceback" not in err
    assert "unexpected error (ValueError at reclaim" in err and "RECLAIM_DEBUG=1" in err
    monkeypatch.setenv("RECLAIM_DEBUG", "1")
    with pytest.raises(ValueError):
        failures.run(boom)


def test_no_arguments_prints_help_and_exits_0(reclaim):
    status, out, err = reclaim()
    assert status == 0 and "Usage: reclaim" in out and "Commands:" in out
    status, out, _ = reclaim("data")
    assert status == 0 and "Usage: reclaim data" in out


# --------------------------------------------------------------------------- exit statuses


def test_check_exit_status_0_clean_1_errors_2_unreadable_or_nothing(work, reclaim):
    as_of = ["--date-of-check", "2025-12-15"]
    status, out, _ = reclaim("check", CLAIMS, *as_of, "--select", "RC305")
    assert status == 0 and "0 findings" in out
    status, out, _ = reclaim("check", CLAIMS, *as_of)
    assert status == 1 and "errors" in out
    # one good file and one binary file: the good one is checked, the run says the other was not
    status, out, err = reclaim("check", CLAIMS, "binary.835", *as_of, "--select", "RC305")
    assert status == 2 and "0 findings" in out
    assert "binary.835: error IO-UNKNOWN-FORMAT: not an X12, CSV or FHIR file: it looks like a program" in err
    assert "1 input file(s) could not be read at all (binary.835)" in err
    status, _, err = reclaim("check", "scan.pdf", "--format", "json")
    assert status == 2 and "could not be read at all (scan.pdf)" in err
    # a remittance is not a claim file: nothing was checked
    status, _, err = reclaim("check", REMITS, *as_of)
    assert status == 2 and "this is an 835 remittance" in err


def test_recover_exits_2_when_an_input_is_empty_binary_or_the_wrong_kind(work, reclaim):
    base = ["--claims", REMIT_CLAIMS, "--no-save", "--no-letters", "--as-of", "2025-12-15"]
    status, out, err = reclaim("recover", REMITS, *base, "-o", "good")
    assert status == 0, err
    status, out, err = reclaim("recover", REMITS, "binary.835", "empty.835", REMIT_CLAIMS, *base, "-o", "mixed")
    assert status == 2
    assert "3 input file(s) could not be read at all" in err and "binary.835" in err and "empty.835" in err
    assert "11 remittance claims" in out  # the good file was still recovered
    with open(work / "mixed" / "read-issues.csv", newline="") as fh:
        issues = {Path(r["path"]).name: r for r in csv.DictReader(fh)}
    assert issues["binary.835"]["message"].startswith("not an X12, CSV or FHIR file: it looks like a program")
    assert "UnicodeDecodeError" not in issues["binary.835"]["message"]
    assert issues["empty.835"]["message"].startswith("not an X12, CSV or FHIR file: the file is empty (0 bytes)")
    assert issues[REMIT_CLAIMS.name]["code"] == "IO-WRONG-KIND"


# --------------------------------------------------------------------------- the real entry point


@pytest.mark.parametrize("args, expected", [
    (["check", str(CLAIMS), "--fix", "-o", "missing-folder/corrected.837"], "the folder missing-folder does not exist"),
    (["convert", str(CLAIMS), "-o", "/proc/x"], "cannot create this folder"),
    (["recover", str(REMITS), "--no-save", "-o", "/proc/x"], "cannot create this folder"),
    (["recover", str(REMITS), "--no-save", "-o", "out", "--memory-limit", "bogus"], "is not a memory size"),
])
def test_the_issues_four_tracebacks_as_subprocesses(args, expected, work):
    env = {**os.environ, "RECLAIM_DEBUG": ""}
    done = subprocess.run([sys.executable, "-m", "reclaim", *args], capture_output=True, text=True, cwd=work, env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and expected in done.stderr


def test_submitter_name_and_phone_take_effect_without_ids(work, reclaim, monkeypatch):
    """#19.4: the submitter's name and phone settings reach the written 837 even when no
    submitter id is set (the ids then stay the ones the claims came with)."""
    monkeypatch.setenv("RECLAIM_SUBMITTER_NAME", "ACME BILLING SERVICE")
    monkeypatch.setenv("RECLAIM_SUBMITTER_PHONE", "5551234567")
    status, _, err = reclaim("check", CLAIMS, "--date-of-check", "2025-12-15", "--fix", "-o", work / "fixed.837")
    assert status in (0, 1), err
    text = (work / "fixed.837").read_text()
    assert "NM1*41*2*ACME BILLING SERVICE" in text and "PER*IC*BILLING OFFICE*TE*5551234567~" in text
