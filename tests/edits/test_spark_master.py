"""The Spark engine runs on the ``spark_master`` setting (a cluster in production, local in tests)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_spark_session_uses_the_spark_master_setting(tmp_path):
    (tmp_path / "reclaim.toml").write_text('[reclaim]\nspark_master = "local[1]"\n')
    env = {**os.environ, "RECLAIM_CONFIG": str(tmp_path / "reclaim.toml")}
    env.pop("RECLAIM_SPARK_MASTER", None)
    code = "from reclaim.edits.backends import spark_session; print(spark_session().sparkContext.master)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "local[1]"
