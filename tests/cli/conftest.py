"""Fixtures of the CLI tests: the console entry point run in-process, and a working folder
holding the bad inputs users meet."""

from __future__ import annotations

import pytest

from reclaim.cli import main


@pytest.fixture()
def reclaim(capsys):
    """``reclaim(*args) -> (exit status, stdout, stderr)``, through ``reclaim.cli.main`` (the
    function the ``reclaim`` command runs)."""

    def run(*args) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        code = done.value.code
        return (code if isinstance(code, int) else (0 if code is None else 1)), out, err

    return run


@pytest.fixture()
def work(tmp_path, monkeypatch, ref_store):
    """A working folder with the bad inputs a user meets, and the settings pointing to the store."""
    monkeypatch.chdir(tmp_path)
    for name in ("RECLAIM_CONFIG", "RECLAIM_FORMAT", "RECLAIM_DB_URL", "RECLAIM_ENGINE", "RECLAIM_POLICY", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECLAIM_HOME", ref_store.home)
    monkeypatch.setenv("RECLAIM_DB_URL", f"sqlite:///{tmp_path / 'worklist.sqlite'}")
    (tmp_path / "garbage.yaml").write_text("just words\n")
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    (tmp_path / "afile").write_text("a file where a folder is expected\n")
    (tmp_path / "empty.835").write_bytes(b"")
    (tmp_path / "binary.835").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    (tmp_path / "emptyhome").mkdir()
    return tmp_path
