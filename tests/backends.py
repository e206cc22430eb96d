"""The databases the tests run on: SQLite always, and PostgreSQL and MariaDB
(or MySQL) servers from TEST_POSTGRESQL_URL and TEST_MYSQL_URL, which default
to the local servers. Each test gets a database of its own, created before
it and dropped after it.

A server that does not answer skips its backend, and the run says so at the
end; with REQUIRE_ALL_BACKENDS=1 (CI sets it) that is a failure instead.
"""
import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app.migrating.database import create_database

BACKENDS = ("sqlite", "postgresql", "mysql")
SERVER_URLS = {
    "postgresql": os.environ.get("TEST_POSTGRESQL_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres",
    "mysql": os.environ.get("TEST_MYSQL_URL") or "mysql+pymysql://root@127.0.0.1:3306/",
}
SKIP_PREFIX = "backend unavailable: "
_answers = {}


def require_all():
    return os.environ.get("REQUIRE_ALL_BACKENDS") == "1"


def server_engine(backend):
    """An AUTOCOMMIT engine on the backend's server, for CREATE/DROP DATABASE."""
    return create_engine(SERVER_URLS[backend], isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 5})


def server_problem(backend):
    """None if the backend's server answers, else why not (asked once)."""
    if backend not in _answers:
        engine = server_engine(backend)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            _answers[backend] = None
        except Exception as error:  # any failure to answer means: not there
            _answers[backend] = "{} at {} did not answer ({})".format(
                backend, make_url(SERVER_URLS[backend]).render_as_string(),
                str(error).strip().splitlines()[0])
        finally:
            engine.dispose()
    return _answers[backend]


def require_server(backend):
    problem = server_problem(backend)
    if problem is None:
        return
    if require_all():
        pytest.fail("REQUIRE_ALL_BACKENDS=1 but " + problem, pytrace=False)
    pytest.skip(SKIP_PREFIX + problem)


def new_database(backend):
    """Create an empty database on the backend's server; return its URL."""
    require_server(backend)
    url = make_url(SERVER_URLS[backend]).set(database="test_" + uuid.uuid4().hex[:12])
    create_database(url)
    return url.render_as_string(hide_password=False)


def skipped_backends(terminalreporter):
    """The reasons of the backend skips of this run, each once."""
    reasons = set()
    for report in terminalreporter.stats.get("skipped", []):
        _, _, reason = report.longrepr if isinstance(report.longrepr, tuple) else ("", 0, "")
        if SKIP_PREFIX in reason:
            reasons.add(reason.split(SKIP_PREFIX, 1)[1])
    return sorted(reasons)
