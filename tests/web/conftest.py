"""Fixtures for the web app: a fresh app per test on SQLite (a file in tmp_path) and on the
real PostgreSQL server ``scripts/test-services.sh`` starts (``RECLAIM_TEST_POSTGRES_URL``;
each test gets its own schema). Under ``CI=true`` a missing PostgreSQL URL fails the run."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from reclaim.config import Settings
from reclaim.web import auth
from reclaim.web.app import create_app
from reclaim.web.db import engine_for, normalize_url

PASSWORD = "correct horse battery staple"


def postgres_url() -> str | None:
    url = os.environ.get("RECLAIM_TEST_POSTGRES_URL")
    if not url and os.environ.get("CI") == "true":
        pytest.fail("RECLAIM_TEST_POSTGRES_URL is unset under CI=true: scripts/test-services.sh must start PostgreSQL",
                    pytrace=False)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reclaim.sqlite'}"
        return
    base = postgres_url()
    if not base:
        pytest.skip("RECLAIM_TEST_POSTGRES_URL not set (outside CI): PostgreSQL variant not run")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    yield url
    from reclaim.web import audit

    audit.flush()
    engine_for(url).dispose()  # close its pooled connections: a server has only so many
    engine_for.cache_clear()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(home=str(tmp_path / "home"), db_url=db_url, max_upload_mb=2)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def full_app(settings: Settings, ref_store):
    """The app with the reference store built from ../shared/refdata (code guide, check, recovery)."""
    home = Path(settings.home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "refdata.duckdb").symlink_to(ref_store.store_path)
    return create_app(settings)


@pytest.fixture
def engine(app):
    return app.state.engine


class Browser:
    """A TestClient signed in through the real login form, sending the CSRF header like app.js."""

    def __init__(self, app, name: str):
        self.client = TestClient(app, base_url="http://testserver")
        self.name = name
        self.csrf = ""
        page = self.client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token},
                                    follow_redirects=False)
        assert response.status_code == 303, response.text
        self.csrf = csrf_of(self.client.get("/uploads").text)

    def __getattr__(self, item):
        return getattr(self.client, item)

    def send(self, method: str, url: str, **kwargs):
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', html).group(1)


@pytest.fixture
def make_user(engine):
    def make(name: str, role: str) -> auth.User:
        return auth.add_user(engine, name, role, PASSWORD)

    return make


@pytest.fixture
def signed_in(app, make_user):
    """signed_in(role) -> a Browser for a new user with that role."""

    def sign(role: str, name: str | None = None) -> Browser:
        name = name or f"{role}1"
        make_user(name, role)
        return Browser(app, name)

    return sign


@pytest.fixture
def token_client(app, engine, make_user):
    """token_client(role) -> a TestClient sending a fresh API token of a new user with that role."""

    def make(role: str, name: str | None = None) -> TestClient:
        name = name or f"{role}-script"
        make_user(name, role)
        token = auth.issue_token(engine, name, "test")
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    return make
