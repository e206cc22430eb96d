"""Fixtures shared by the test suite.

The app under test always gets its schema by running the committed
migrations (never create_all), on a database of its own, on every backend
(tests/backends.py). A test marked @pytest.mark.backends("sqlite") runs on
the backends it names only.
"""

import pytest
from alembic import command
from flask import g
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db, migrate
from app.migrating.database import drop_database
from tests import accounts, backends, browser
from tests.support import Project, copy_project


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "backends(*names): run the test on these backends only")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        metafunc.parametrize("backend", marker.args if marker else backends.BACKENDS)


def pytest_unconfigure(config):
    """Last words of the run: which backends (or the browser) were skipped, and why."""
    terminalreporter = config.pluginmanager.get_plugin("terminalreporter")
    if terminalreporter is None or hasattr(config, "workerinput"):
        return
    for reason in backends.skipped_backends(terminalreporter):
        terminalreporter.write_line(
            "SKIPPED BACKEND: {} (its tests did not run; REQUIRE_ALL_BACKENDS=1 "
            "makes this a failure)".format(reason), yellow=True, bold=True)
    reason = browser.skipped_browser(terminalreporter)
    if reason:
        terminalreporter.write_line(
            "SKIPPED BROWSER TESTS: {} (tests/test_browser.py did not run; "
            "REQUIRE_ALL_BACKENDS=1 makes this a failure)".format(reason),
            yellow=True, bold=True)


@pytest.fixture
def database_url(backend, tmp_path):
    """A fresh, empty database for one test, dropped after it."""
    if backend == "sqlite":
        yield "sqlite:///" + str(tmp_path / "test.db")
        return
    url = backends.new_database(backend)
    yield url
    drop_database(url)


class Client(FlaskClient):
    """A test client whose every request finds out anew who is signed in.

    A request made while the test holds an app context (the `app` fixture
    does) shares that context's `g` with the test and with every other
    request, and Flask-Login keeps the request's user there (access.py the
    API token's): without this, a second client would be taken for the
    first one's user. On a server
    each request has a context of its own."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("token_user", None)  # app/accounts/access.py's
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url):
    """The app on an empty database, inside an app context."""
    app = create_app("testing", settings={"SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def migrated_app(app):
    """The app on a database upgraded to head by the committed migrations."""
    command.upgrade(migrate.get_config(), "head")
    return app


@pytest.fixture
def anonymous(migrated_app):
    """A client that has not signed in, with no API token."""
    return migrated_app.test_client()


@pytest.fixture
def client(migrated_app):
    """A client signed in to the page as a super_user (ROOT_EMAIL), whose
    API requests carry that super_user's API token."""
    return accounts.signed_in_client(migrated_app, accounts.make_account(
        "super_user", email=accounts.ROOT_EMAIL))


@pytest.fixture
def project(tmp_path, database_url):
    """A copy of manage.py, app/ and migrations/ using the test's database."""
    root = tmp_path / "project"
    root.mkdir()
    copy_project(root)
    return Project(root, database_url)
