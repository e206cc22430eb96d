"""sqlalchemy.url in alembic.ini, which the Alembic tutorials have readers
set: the database migrated is always the app's (DATABASE_URL or its
config), so an alembic.ini naming another one is refused in one line by
every door (manage.py db, flask db, the raw alembic command), before either
database is touched; one naming the same database, however spelt, runs."""
import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from app.migrating.database import drop_database
from tests import backends
from tests.support import assert_ok, committed_revisions, error_lines

PASSWORD = "s3cret-in-ini"
# Each door, the alembic.ini it reads, and its upgrade command.
DOORS = {
    "manage.py": ("migrations/alembic.ini", ("db", "upgrade")),
    "flask": ("migrations/alembic.ini", ("db", "upgrade")),
    "alembic": ("alembic.ini", ("upgrade", "head")),
}
# How %(here)s reaches the test's SQLite file (tmp_path/test.db) from the
# folder of each ini (the project is tmp_path/project).
UP_TO_TMP_PATH = {"alembic.ini": "%(here)s/..", "migrations/alembic.ini": "%(here)s/../.."}


@pytest.fixture
def other_url(backend, tmp_path):
    """Another database than the app's, on the other kind of server: a
    PostgreSQL one (with a password in its URL) for an app on SQLite, a
    SQLite file for an app on PostgreSQL."""
    if backend == "postgresql":
        yield "sqlite:///" + str(tmp_path / "other.db")
        return
    url = make_url(backends.new_database("postgresql"))
    yield url.set(password=PASSWORD).render_as_string(hide_password=False)
    drop_database(url)


def set_ini_url(project, ini, url):
    """Write `sqlalchemy.url = url` into the [alembic] section of `ini`."""
    path = project.root / ini
    text = path.read_text()
    assert "[alembic]\n" in text
    path.write_text(text.replace("[alembic]\n", "[alembic]\nsqlalchemy.url = {}\n".format(url), 1))


def run_door(project, door, args):
    if door == "manage.py":
        return project.manage(*args)
    if door == "flask":
        return project.flask(*args)
    return project.alembic(*args)


def tables_of(url):
    """The tables of the database at `url` (a URL without its password, for
    the trust authentication of the test server)."""
    engine = create_engine(make_url(url).set(password=None))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def shown(url):
    return make_url(url).render_as_string(hide_password=True)


@pytest.mark.backends("sqlite", "postgresql")
@pytest.mark.parametrize("sql", [False, True], ids=["online", "sql"])
@pytest.mark.parametrize("door", DOORS)
def test_an_ini_naming_another_database_is_refused(project, other_url, door, sql):
    ini, upgrade = DOORS[door]
    set_ini_url(project, ini, other_url)

    result = run_door(project, door, upgrade + (("--sql",) if sql else ()))

    assert result.returncode == 1, result.stdout + result.stderr
    assert error_lines(result.stderr) == [
        "error: {0} sets sqlalchemy.url to {1}, but this app migrates {2} (DATABASE_URL or "
        "the app's config); remove sqlalchemy.url from {0} and set DATABASE_URL={1} to "
        "migrate that database".format(ini, shown(other_url), shown(project.database_url))]
    assert PASSWORD not in result.stdout + result.stderr
    assert "CREATE TABLE" not in result.stdout
    assert project.tables() == set()
    assert tables_of(other_url) == set()


def same_database_spelt_otherwise(project, ini):
    """The app's database as a reader might write it in `ini`: the SQLite
    file through %(here)s and "..", the server with postgres://, localhost
    and no port."""
    url = make_url(project.database_url)
    if url.get_backend_name() == "sqlite":
        return "sqlite:///{}/test.db".format(UP_TO_TMP_PATH[ini])
    return "postgres://{}@localhost/{}".format(url.username, url.database)


@pytest.mark.backends("sqlite", "postgresql")
@pytest.mark.parametrize("setting", ["same database", "empty"])
@pytest.mark.parametrize("door", DOORS)
def test_an_ini_naming_the_same_database_or_none_migrates(project, door, setting):
    ini, upgrade = DOORS[door]
    set_ini_url(project, ini, same_database_spelt_otherwise(project, ini)
                if setting == "same database" else "")

    assert_ok(run_door(project, door, upgrade))

    assert project.version() == [committed_revisions()[-1][0]]


@pytest.mark.backends("sqlite")
def test_an_ini_url_that_is_no_url_is_refused(project):
    set_ini_url(project, "alembic.ini", "shop database")

    result = project.alembic("upgrade", "head")

    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "error: alembic.ini sets sqlalchemy.url to 'shop database', which is not a database "
        "URL; remove sqlalchemy.url from alembic.ini: this app migrates {} (DATABASE_URL or "
        "the app's config)".format(project.database_url)]
    assert project.tables() == set()
