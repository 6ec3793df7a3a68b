"""Output that fits a terminal (#19.3): commands run in a real pseudo-terminal of 100 columns
(as a user's window), and piped (as a script or a file gets them)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _env(home: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "RECLAIM_FORMAT", "RECLAIM_CONFIG")}
    return {**env, "RECLAIM_HOME": home, "TERM": "xterm-256color", **extra}


def in_terminal(args, home: str, columns: int = 100, cwd=None) -> tuple[int, str]:
    """(exit status, what the terminal showed, escape codes removed) of ``reclaim ARGS`` run
    with stdin, stdout and stderr on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "reclaim", *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, env=_env(home), cwd=cwd, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 600
    while time.monotonic() < deadline:
        if not select.select([master], [], [], 5)[0]:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    if proc.poll() is None:
        proc.kill()
    status = proc.wait()
    os.close(master)
    return status, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


def piped(args, home: str, cwd=None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reclaim", *map(str, args)], capture_output=True, text=True,
                          env=_env(home, **env), cwd=cwd)


def _widest(text: str) -> int:
    return max(len(line) for line in text.replace("\r", "\n").splitlines())


def test_rules_page_is_rendered_markdown_on_a_terminal_and_markdown_when_piped(ref_store):
    status, shown = in_terminal(["rules", "RC301"], ref_store.home)
    assert status == 0
    assert "What it checks" in shown and "Why it matters" in shown
    assert "## " not in shown and "**" not in shown  # rendered, not raw Markdown
    assert _widest(shown) <= 100
    raw = piped(["rules", "RC301"], ref_store.home)
    assert "## What it checks" in raw.stdout  # a file gets Markdown that renders anywhere


def test_rules_and_data_status_fit_100_columns(ref_store):
    status, listing = in_terminal(["rules"], ref_store.home)
    assert status == 0 and "RC104  ndc-billed-under-other-code" in listing and _widest(listing) <= 100
    assert "`reclaim rules CODE` explains one edit" in listing
    whole = piped(["rules"], ref_store.home).stdout  # piped: each summary whole on its line
    assert _widest(whole) > 100 and "…" not in whole
    status, table = in_terminal(["data", "status"], ref_store.home)
    assert status == 0 and _widest(table) <= 100
    assert "HCPC2025_OCT_ANWEB.xlsx (sha256 6fcd04186caa)" in table and "not loaded" in table
    # words are never cut: every file name appears whole
    for name in ("MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026.csv", "Claim Adjustment Reason Codes(CARC).csv"):
        assert name in table


def test_data_status_gives_the_whole_sha256_in_json_and_wide(ref_store):
    payload = json.loads(piped(["data", "status", "--format", "json"], ref_store.home).stdout)
    shas = {r["dataset"]: r["sha256"] for r in payload["releases"] if r["sha256"]}
    assert shas and all(re.fullmatch(r"[0-9a-f]{64}", s) for s in shas.values())
    wide = piped(["data", "status", "--wide"], ref_store.home).stdout
    assert shas["hcpcs"] in wide


def test_worklist_tables_fit_and_show_the_whole_reason_when_it_fits(ref_store, tmp_path):
    db = f"sqlite:///{tmp_path / 'w.sqlite'}"
    args = ["recover", EXAMPLES / "remits/recover-medicare.835", EXAMPLES / "remits/recover-acme.835",
            "--claims", EXAMPLES / "claims/recover-medicare.837", "--claims", EXAMPLES / "claims/recover-acme.837",
            "--terms", EXAMPLES / "remits/acme-terms.yaml", "--as-of", "2025-12-15", "--no-letters",
            "--db", db, "-o", tmp_path / "out"]
    status, shown = in_terminal(args, ref_store.home)
    assert status == 0, shown
    table = shown[shown.index("item "):shown.index("more in")]
    assert _widest(table) <= 100
    assert "patient_responsibility  PR-2" in table  # the kind column holds its longest value
    status, narrow = in_terminal(["worklist", "--db", db, "list"], ref_store.home)
    assert status == 0 and _widest(narrow) <= 100
    status, wide = in_terminal(["worklist", "--db", db, "list"], ref_store.home, columns=200)
    assert re.search(r"expected \d+\.\d\d, paid \d+\.\d\d ", wide)  # the whole reason, not "expected 1"
    header = wide.splitlines()[0]
    assert all(name in header for name in ("priority", "code", "assignee"))


def test_long_operations_show_progress_on_a_terminal_only(ref_store, tmp_path):
    """recover, check and data import on a terminal show their stages; piped, nothing. (`check
    --engine spark` goes through the same callback, its stage names the engine: "running the edits
    (spark)"; not run here, Spark's start-up would add minutes to the suite.)"""
    recover = ["recover", EXAMPLES / "remits/recover-medicare.835", "--claims", EXAMPLES / "claims/recover-medicare.837",
               "--as-of", "2025-12-15", "--no-save", "-o", tmp_path / "out"]
    check = ["check", EXAMPLES / "claims/check-medicare.837", "--date-of-check", "2025-12-15"]
    imports = ["--home", tmp_path / "home", "data", "import", REPO / "tests/fixtures/refdata"]
    for args, stage in ((recover, "reading and explaining the remittances"), (check, "running the edits (duckdb)"),
                        (imports, "importing")):
        status, shown = in_terminal(args, ref_store.home)
        assert status in (0, 1), shown
        assert stage in shown
        done = piped(args, ref_store.home)
        assert stage not in done.stderr and "━" not in done.stderr and "\r" not in done.stderr
