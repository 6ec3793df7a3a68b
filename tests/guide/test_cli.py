"""``reclaim code`` and ``reclaim ndc`` end to end: the installed console script on a store built
from the real files, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(ref_store, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RECLAIM_HOME": ref_store.home, "COLUMNS": "100"}
    env.pop("RECLAIM_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "reclaim", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_code_json(ref_store) -> None:
    done = run(ref_store, "code", "J0897", "--date", "2025-11-15", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["code"] == "J0897" and data["payment"]["quarter"] == "2025-Q4"


def test_code_text_and_markdown(ref_store) -> None:
    text = run(ref_store, "code", "q5136", "--date", "2025-11-15")
    assert text.returncode == 0, text.stderr
    assert "denosumab-bbdz" in text.stdout and "reference product" in text.stdout
    md = run(ref_store, "code", "J1745", "--date", "2025-11-15", "--format", "markdown")
    assert md.returncode == 0 and md.stdout.startswith("# J1745: billing guide")


def test_unknown_code_is_a_clear_error(ref_store) -> None:
    done = run(ref_store, "code", "J1328", "--date", "2025-11-15")
    assert done.returncode == 2 and done.stdout == ""
    assert "J1328 is not in the loaded HCPCS file" in done.stderr and "J1327" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [("code",), ("code", "J0897", "--search", "x"), ("code", "J0897", "--date", "11/15/2025")])
def test_usage_errors(ref_store, args) -> None:
    done = run(ref_store, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr


def test_search_and_ndc(ref_store) -> None:
    done = run(ref_store, "code", "--search", "denosumab", "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)[0]["code"] == "J0897"
    ndc = run(ref_store, "ndc", "55513-0710-01", "--date", "2025-11-15")
    assert ndc.returncode == 0 and "J0897" in ndc.stdout and "60 per item" in ndc.stdout
    bad = run(ref_store, "ndc", "5551307101")
    assert bad.returncode == 2 and "ambiguous" in bad.stderr


def test_store_missing_is_a_clear_error(tmp_path) -> None:
    env = {**os.environ, "RECLAIM_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "reclaim", "code", "J0897"], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "no reference store" in done.stderr and "reclaim data import" in done.stderr
