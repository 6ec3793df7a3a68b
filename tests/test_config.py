import pytest

from reclaim import config
from reclaim.errors import ConfigError


def test_precedence_file_env_flag(tmp_path, monkeypatch):
    cfg = tmp_path / "reclaim.toml"
    cfg.write_text('[reclaim]\nengine = "spark"\nhome = "/from/file"\nunderpayment_threshold = 10\n')
    monkeypatch.setenv("RECLAIM_CONFIG", str(cfg))
    monkeypatch.setenv("RECLAIM_HOME", "/from/env")
    s = config.load({"engine": "duckdb"})
    assert s.engine == "duckdb"  # flag beats file
    assert s.home == "/from/env"  # env beats file
    assert s.underpayment_threshold == 10.0  # file beats default


def test_bad_values_name_their_origin(tmp_path, monkeypatch):
    cfg = tmp_path / "reclaim.toml"
    cfg.write_text('engine = "oracle"\n')
    monkeypatch.setenv("RECLAIM_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"reclaim.toml: setting 'engine' must be one of duckdb, spark"):
        config.load()
    cfg.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        config.load()
    monkeypatch.delenv("RECLAIM_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reclaim.toml").unlink()
    monkeypatch.setenv("RECLAIM_UNDERPAYMENT_THRESHOLD", "lots")
    with pytest.raises(ConfigError, match="RECLAIM_UNDERPAYMENT_THRESHOLD"):
        config.load()
