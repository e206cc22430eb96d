"""The migration workflow against real servers: missing databases, bad
credentials, passwords kept out of output, a revision failing half-way,
and several deploys migrating at once."""
import time
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app.migrating.database import drop_database
from tests import backends
from tests.support import assert_ok, committed_revisions, error_lines, get, without_modules

REVISIONS = [revision for revision, _ in committed_revisions()]
HEAD = REVISIONS[-1]
PASSWORD = "p@ss:w/rd%1"
# A revision after the committed head that creates a table, adds a column,
# then fails when FAIL_REVISION is set: the half-way failure of a deploy.
FAILING = "f0f0f0f0f0f0"
FAILING_UPGRADE = """
op.create_table("partial", sa.Column("id", sa.Integer, primary_key=True))
op.add_column("users", sa.Column("nickname", sa.String(64)))
if os.environ.get("FAIL_REVISION"):
    op.execute("SELECT no_such_column FROM no_such_table")
"""
FAILING_DOWNGRADE = """
op.drop_column("users", "nickname")
op.drop_table("partial")
"""
# A revision after the committed head that sleeps when SLOW_REVISION is set,
# holding the migration lock meanwhile.
SLOW = "5105105105aa"
SLOW_UPGRADE = """
time.sleep(float(os.environ.get("SLOW_REVISION") or 0))
op.create_table("slow", sa.Column("id", sa.Integer, primary_key=True))
"""


def upgrade_lines(output):
    """The "Running upgrade A -> B" lines in `output`."""
    return [line for line in output.splitlines() if "Running upgrade" in line]


# --- configuration from DB_* parts ----------------------------------------

@pytest.fixture
def mysql_user(database_url):
    """A MariaDB user whose password has @, :, / and %, allowed on the test
    database; yields its name."""
    name = "u_" + uuid.uuid4().hex[:10]
    engine = backends.server_engine("mysql")
    database = make_url(database_url).database
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(
                "CREATE USER '{}'@'%%' IDENTIFIED BY %(password)s".format(name),
                {"password": PASSWORD})
            connection.exec_driver_sql(
                "GRANT ALL ON `{}`.* TO '{}'@'%%'".format(database, name))
        yield name
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP USER IF EXISTS '{}'@'%%'".format(name))
        engine.dispose()


@pytest.mark.backends("mysql")
def test_db_parts_with_a_special_password_connect_and_never_show_it(
        project, database_url, mysql_user):
    url = make_url(database_url)
    parts = {"DATABASE_URL": "", "DB_DRIVER": "mysql+pymysql", "DB_USERNAME": mysql_user,
             "DB_PASSWORD": PASSWORD, "DB_HOST": url.host, "DB_PORT": str(url.port or 3306),
             "DB_NAME": url.database}
    outputs = []
    for args in (("db", "upgrade"), ("db", "current"), ("db", "check"), ("db", "history"),
                 ("db", "upgrade", "--sql", "{}:head".format(REVISIONS[0]))):
        result = assert_ok(project.manage(*args, env=parts))
        outputs.append(result.stdout + result.stderr)
    assert project.version() == [HEAD]
    wrong = project.manage("db", "upgrade", env=dict(parts, DB_PASSWORD=PASSWORD + "x"))
    outputs.append(wrong.stdout + wrong.stderr)
    assert wrong.returncode == 1
    assert error_lines(wrong.stderr)[0].startswith(
        'error: cannot connect to database "{}" on {}:{} as user "{}": '.format(
            url.database, url.host, url.port or 3306, mysql_user))
    assert "Access denied" in wrong.stderr
    for output in outputs:
        assert PASSWORD not in output
        assert "p%40ss" not in output


def test_the_password_never_shows_in_healthz_or_runserver_output(project, database_url):
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        # trust authentication: PostgreSQL accepts the password unread.
        url = url.set(password=PASSWORD)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    assert_ok(project.manage("db", "upgrade", REVISIONS[1], env=env))
    with project.runserver(env=env) as server:
        status, body = server.wait()
    assert status == 503
    assert "unapplied migration(s)" in server.stderr
    for text in (body, server.stdout, server.stderr):
        assert PASSWORD not in text and "p%40ss" not in text


# --- a database that does not exist ------------------------------------------

@pytest.fixture
def missing_database_url(database_url):
    """The URL of a database that does not exist (yet) on the test's server."""
    url = make_url(database_url)
    missing = url.set(database=url.database + "_new").render_as_string(hide_password=False)
    yield missing
    if url.get_backend_name() != "sqlite":
        drop_database(missing)


@pytest.mark.backends("postgresql", "mysql")
def test_upgrade_of_a_missing_database_says_how_to_create_it(project, missing_database_url):
    url = make_url(missing_database_url)
    env = {"DATABASE_URL": missing_database_url}
    refused = project.manage("db", "upgrade", env=env)
    assert refused.returncode == 1
    assert error_lines(refused.stderr) == [
        'error: database "{}" on {}:{} as user "{}" does not exist: create it with '
        '"python manage.py db createdb"'.format(
            url.database, url.host, url.port, url.username)]

    created = assert_ok(project.manage("db", "createdb", env=env))
    assert 'created database "{}"'.format(url.database) in created.stdout
    again = assert_ok(project.manage("db", "createdb", env=env))
    assert 'database "{}" on {}:{} as user "{}" already exists'.format(
        url.database, url.host, url.port, url.username) in again.stdout
    assert_ok(project.manage("db", "upgrade", env=env))
    with create_engine(missing_database_url).connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalar() == HEAD


@pytest.mark.backends("sqlite")
def test_createdb_and_upgrade_make_a_sqlite_file_and_its_folders(project, tmp_path):
    path = tmp_path / "deep" / "er" / "app.db"
    env = {"DATABASE_URL": "sqlite:///" + str(path)}
    assert "created" in assert_ok(project.manage("db", "createdb", env=env)).stdout
    assert path.exists()
    assert "already exists" in assert_ok(project.manage("db", "createdb", env=env)).stdout
    assert_ok(project.manage("db", "upgrade", env=env))


@pytest.mark.backends("postgresql", "mysql")
def test_an_unknown_user_fails_in_one_line_naming_the_target(project, database_url):
    url = make_url(database_url).set(username="nobody_" + uuid.uuid4().hex[:6],
                                     password="secret-" + PASSWORD)
    result = project.manage("db", "upgrade", env={
        "DATABASE_URL": url.render_as_string(hide_password=False)})
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert line.startswith('error: cannot connect to database "{}" on {}:{} as user "{}": '
                           .format(url.database, url.host, url.port, url.username))
    assert PASSWORD not in result.stderr + result.stdout


# --- the committed history, up and down twice --------------------------------

def test_upgrade_downgrade_base_upgrade_twice_on_one_database(project, backend):
    for _ in range(2):
        assert_ok(project.manage("db", "upgrade"))
        assert project.version() == [HEAD]
        assert_ok(project.manage("db", "downgrade", "base"))
        assert project.tables() == {"alembic_version", "migration_log"}
    assert_ok(project.manage("db", "upgrade"))
    if backend == "postgresql":
        with project.engine() as engine, engine.connect() as connection:
            types = connection.exec_driver_sql(
                "SELECT typname FROM pg_type WHERE typname = 'user_role'").scalars().all()
        assert types == ["user_role"]


# --- a revision that fails half-way ------------------------------------------

def test_a_failing_revision_leaves_the_database_as_before_or_marked(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    project.add_revision(FAILING, HEAD, FAILING_UPGRADE, FAILING_DOWNGRADE)

    failed = project.manage("db", "upgrade", env={"FAIL_REVISION": "1"})

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    [line] = error_lines(failed.stderr)
    assert "revision {} (test revision {})".format(FAILING, FAILING) in line
    assert project.version() == [HEAD]
    if backend != "mysql":
        # Transactional DDL: the whole revision rolled back.
        assert "failed and its upgrade was rolled back" in line
        assert "partial" not in project.tables()
        assert "nickname" not in project.columns("users")
        assert project.unfinished() == []
        assert_ok(project.manage("db", "upgrade"))
        assert project.version() == [FAILING]
        return

    # MariaDB committed the DDL before the failure: the revision is marked.
    assert "failed part-way through its upgrade" in line
    assert '"python manage.py db stamp {}"'.format(FAILING) in line
    assert '"python manage.py db stamp {}"'.format(HEAD) in line
    assert "partial" in project.tables()
    assert project.unfinished() == [(FAILING, "upgrade")]

    for args in (("db", "upgrade"), ("db", "downgrade")):
        refused = project.manage(*args)
        assert refused.returncode == 1
        [refusal] = error_lines(refused.stderr)
        assert "revision {} (test revision {}) did not finish its upgrade".format(
            FAILING, FAILING) in refusal
        assert project.version() == [HEAD]
        assert "partial" in project.tables()

    # The way out: undo by hand, stamp where the database is, upgrade again.
    with project.engine() as engine, engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE partial")
        connection.exec_driver_sql("ALTER TABLE users DROP COLUMN nickname")
    assert_ok(project.manage("db", "stamp", HEAD))
    assert project.unfinished() == []
    assert_ok(project.manage("db", "upgrade"))
    assert project.version() == [FAILING]
    assert "nickname" in project.columns("users")


def test_a_failing_downgrade_is_reported_with_the_revision(project, backend):
    project.add_revision(FAILING, HEAD, FAILING_UPGRADE, FAILING_DOWNGRADE + """
if os.environ.get("FAIL_REVISION"):
    op.execute("SELECT no_such_column FROM no_such_table")
""")
    assert_ok(project.manage("db", "upgrade"))
    failed = project.manage("db", "downgrade", env={"FAIL_REVISION": "1"})
    assert failed.returncode == 1
    [line] = error_lines(failed.stderr)
    assert "revision {}".format(FAILING) in line
    assert project.version() == [FAILING]
    if backend == "mysql":
        assert "failed part-way through its downgrade" in line
        assert project.unfinished() == [(FAILING, "downgrade")]
        # A downgrade that failed half-way blocks even an upgrade with nothing to do.
        assert project.manage("db", "upgrade").returncode == 1
    else:
        assert "partial" in project.tables()
        assert project.unfinished() == []


# The revision that gives users.email an exact collation on MariaDB.
COLLATION = "8f3a6c2d5e71"


@pytest.mark.backends("mysql")
def test_email_collation_downgrade_refuses_addresses_it_would_merge(project):
    """Back to the server's collation, josé and jose would be one address:
    the downgrade refuses before changing anything, and names them."""
    assert_ok(project.manage("db", "upgrade", COLLATION))
    with project.engine() as engine, engine.begin() as connection:
        for email in ("jose@example.com", "josé@example.com"):
            connection.exec_driver_sql(
                "INSERT INTO users (name, email) VALUES ('José', %s)", (email,))
    failed = project.manage("db", "downgrade")
    assert failed.returncode == 1
    [line] = error_lines(failed.stderr)
    assert COLLATION in line and "rolled back" in line
    assert "jose@example.com, josé@example.com" in line
    assert project.version() == [COLLATION] and project.unfinished() == []
    with project.engine() as engine, engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM users WHERE email = 'josé@example.com'")
    assert_ok(project.manage("db", "downgrade"))
    assert project.version() == [REVISIONS[REVISIONS.index(COLLATION) - 1]]


# --- several deploys at once --------------------------------------------------

def test_six_upgrades_started_together_apply_each_revision_once(project):
    processes = [project.start("db", "upgrade") for _ in range(6)]
    results = [(process.wait(timeout=120),) + process.communicate() for process in processes]
    for returncode, _stdout, stderr in results:
        assert returncode == 0, stderr
        assert "Traceback" not in stderr
    applied = [line.split("Running upgrade ", 1)[1].split(",")[0]
               for _, _, stderr in results for line in upgrade_lines(stderr)]
    assert sorted(applied) == sorted(
        "{} -> {}".format(before, after)
        for before, after in zip([""] + REVISIONS[:-1], REVISIONS))
    assert project.version() == [HEAD]


@pytest.mark.backends("sqlite")
def test_the_workflow_runs_where_fcntl_does_not_exist(project, tmp_path):
    """Windows has no fcntl: the SQLite lock file must still work there, and
    nothing else on the db or runserver paths may need it."""
    blocked = without_modules(tmp_path / "no-fcntl", "fcntl")
    # The block is in force in the app's own process.
    assert "No module named 'fcntl'" in project.manage(
        "shell", input="import fcntl\n", env=blocked).stderr
    processes = [project.start("db", "upgrade", env=blocked) for _ in range(3)]
    results = [(process.wait(timeout=120),) + process.communicate() for process in processes]
    for returncode, _, stderr in results:
        assert returncode == 0, stderr
        assert "Traceback" not in stderr
    applied = [line for _, _, stderr in results for line in upgrade_lines(stderr)]
    assert len(applied) == len(REVISIONS)
    assert project.version() == [HEAD]
    assert_ok(project.manage("db", "downgrade", "base", env=blocked))
    assert_ok(project.manage("db", "upgrade", env=blocked))
    assert project.version() == [HEAD]

    with project.runserver(env=blocked, stop_within=30) as server:
        status, _ = server.wait()
    assert status == 200


def start_slow_upgrade(project, seconds):
    """Start `db upgrade` to the slow revision; return once it holds the lock."""
    project.add_revision(SLOW, HEAD, SLOW_UPGRADE)
    assert_ok(project.manage("db", "upgrade", HEAD))
    process = project.start("db", "upgrade", env={"SLOW_REVISION": str(seconds)})
    deadline = time.monotonic() + 30
    output = ""
    while "Running upgrade {} -> {}".format(HEAD, SLOW) not in output:
        assert time.monotonic() < deadline, output
        output += process.stderr.readline()
    return process


def test_a_second_upgrade_waits_for_the_lock_then_runs(project):
    first = start_slow_upgrade(project, 3)
    second = project.manage("db", "upgrade")
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert_ok(second)
    assert "waiting for the migration lock" in second.stderr
    assert project.version() == [SLOW]


def test_waiting_for_the_lock_gives_up_after_the_timeout(project):
    first = start_slow_upgrade(project, 30)
    try:
        started = time.monotonic()
        second = project.manage("db", "upgrade", "-x", "lock_timeout=1")
        waited = time.monotonic() - started
    finally:
        first.kill()
        first.communicate()
    assert second.returncode == 1
    lines = error_lines(second.stderr)
    assert lines[0].startswith("waiting for the migration lock")
    assert "gave up after 1s waiting for the migration lock" in lines[1]
    assert len(lines) == 2
    assert waited < 20


def test_the_lock_timeout_comes_from_the_environment_too(project):
    first = start_slow_upgrade(project, 30)
    try:
        second = project.manage("db", "upgrade", env={"MIGRATION_LOCK_TIMEOUT": "0.5"})
    finally:
        first.kill()
        first.communicate()
    assert second.returncode == 1
    assert "gave up after 0.5s" in second.stderr


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("value", ["soon", "-1", "inf"])
def test_a_bad_lock_timeout_is_refused_in_one_line(project, value):
    result = project.manage("db", "upgrade", env={"MIGRATION_LOCK_TIMEOUT": value})
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "is not a number of seconds" in line
    assert "users" not in project.tables()


def test_a_killed_migration_does_not_leave_the_lock_held(project):
    first = start_slow_upgrade(project, 60)
    first.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
    first.communicate()
    started = time.monotonic()
    result = assert_ok(project.manage("db", "upgrade", "-x", "lock_timeout=15"))
    assert time.monotonic() - started < 15
    assert project.version() == [SLOW]
    assert project.unfinished() == []
    assert "gave up" not in result.stderr


def test_healthz_through_a_real_server_on_every_backend(project):
    assert_ok(project.manage("db", "upgrade"))
    with project.runserver() as server:
        status, _ = server.wait()
        page = get(server.url + "/")
    assert status == 200 and page[0] == 200
