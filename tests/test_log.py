"""The migration log: a row per upgrade, downgrade and stamp, with the
revision's checksum; validation of applied revisions before migrating (`db
validate`, `--accept`); baselines for databases without a log; carry-over of
the older unfinished_migrations table; `db log`; --sql scripts that leave the
same log when a person runs them."""
import json
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.migrating.log.checksum import checksum_of_file, checksum_of_source
from tests.support import assert_ok, committed_revisions, error_lines

REVISIONS = [revision for revision, _ in committed_revisions()]
HEAD = REVISIONS[-1]
FIRST = REVISIONS[0]
ADDED = "a1a1a1a1a1a1"
ADDED_UPGRADE = 'op.add_column("users", sa.Column("nickname", sa.String(64)))'
ADDED_DOWNGRADE = 'op.drop_column("users", "nickname")'
FAILING = "f0f0f0f0f0f0"
FAILING_UPGRADE = """
op.create_table("partial", sa.Column("id", sa.Integer, primary_key=True))
op.execute("SELECT no_such_column FROM no_such_table")
"""
ACCEPT = '"python manage.py db validate --accept {}"'


def revision_path(project, revision):
    [path] = (project.root / "migrations" / "versions").glob("*{}*.py".format(revision))
    return path


def steps(project):
    """[(revision, direction, success)] of the log, oldest first."""
    return [(row["revision"], row["direction"], bool(row["success"]))
            for row in project.log()]


def schema(project):
    """Tables and their columns, and alembic_version: what a refused command
    must leave as it was."""
    return ({table: project.columns(table) for table in project.tables()
             if table != "migration_log"}, project.version())


# --- checksums ----------------------------------------------------------------

CODE = '''"""add a column

Revision ID: a1
"""
import sqlalchemy as sa
from alembic import op

revision = "a1"


def upgrade():
    """Add nickname."""
    op.add_column("users", sa.Column("nickname", sa.String(64)))


def downgrade():
    op.drop_column("users", "nickname")
'''


@pytest.mark.parametrize("edited", [
    CODE.replace('"""add a column', '"""add a nickname column'),
    CODE.replace('    """Add nickname."""\n', ""),
    CODE.replace("def downgrade():", "# undo it\ndef downgrade():  # drop it"),
    CODE.replace('sa.Column("nickname", sa.String(64))',
                 "sa.Column(\n        'nickname',\n        sa.String(64),\n    )"),
    CODE.replace("\n\n\ndef downgrade", "\n\ndef downgrade") + "\n\n",
], ids=["module docstring", "function docstring", "comments", "formatting", "blank lines"])
def test_what_does_not_run_does_not_change_the_checksum(edited):
    assert edited != CODE
    assert checksum_of_source(edited) == checksum_of_source(CODE)


@pytest.mark.parametrize("edited", [
    CODE.replace("sa.String(64)", "sa.String(65)"),
    CODE.replace('op.drop_column("users", "nickname")', "pass"),
    CODE.replace('revision = "a1"', 'revision = "a1"\nLIMIT = 10'),
    CODE.replace('"nickname", sa.String', '"nick", sa.String'),
], ids=["argument", "body", "module statement", "string in code"])
def test_what_runs_changes_the_checksum(edited):
    assert checksum_of_source(edited) != checksum_of_source(CODE)


# --- rows for each step -----------------------------------------------------

def test_upgrade_downgrade_and_stamp_each_leave_rows(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    rows = project.log()
    assert [(row["revision"], row["direction"]) for row in rows] == [
        (revision, "upgrade") for revision in REVISIONS]
    for row in rows:
        assert row["success"] and row["error"] is None
        assert row["checksum"] == checksum_of_file(revision_path(project, row["revision"]))
        assert row["started_at"] <= row["finished_at"]
        assert row["duration_ms"] >= 0
        assert row["os_user"] and row["host"]
        assert (row["database_user"] is None) == (backend == "sqlite")
    assert dict(committed_revisions())[FIRST] == rows[0]["message"]

    assert_ok(project.manage("db", "downgrade", "-1"))
    assert_ok(project.manage("db", "stamp", FIRST))
    assert_ok(project.manage("db", "stamp", HEAD))
    later = steps(project)[len(REVISIONS):]
    assert later[0] == (HEAD, "downgrade", True)
    # stamp FIRST unmarks the revisions after it, newest first; stamp HEAD marks them.
    middle = REVISIONS[1:-1]
    assert later[1:] == ([(revision, "unstamp", True) for revision in reversed(middle)]
                         + [(revision, "stamp", True) for revision in middle + [HEAD]])
    assert project.version() == [HEAD]


def test_db_log_prints_newest_first_and_json_for_scripts(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("db", "downgrade", "-1"))

    text = assert_ok(project.manage("db", "log")).stdout.splitlines()
    assert text[0].split() == ["revision", "direction", "status", "started", "(UTC)",
                               "duration", "by", "message"]
    assert [line.split()[:3] for line in text[1:3]] == [
        [HEAD, "downgrade", "ok"], [HEAD, "upgrade", "ok"]]
    assert len(text) == 1 + len(REVISIONS) + 1
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+ ms", text[1])

    entries = json.loads(assert_ok(project.manage("db", "log", "--json")).stdout)
    assert [(entry["revision"], entry["direction"]) for entry in entries[:2]] == [
        (HEAD, "downgrade"), (HEAD, "upgrade")]
    assert set(entries[0]) == {
        "revision", "message", "direction", "status", "checksum", "started_at",
        "finished_at", "duration_ms", "database_user", "os_user", "host", "error",
        "steps_done", "after_deploy"}
    assert entries[0]["status"] == "ok" and entries[0]["started_at"].endswith("Z")
    assert not any(entry["after_deploy"] for entry in entries)  # one phase here
    assert entries[-1]["revision"] == FIRST

    flask = project.flask("db-log", "--json")
    assert flask.returncode == 0, flask.stderr
    assert json.loads(flask.stdout) == entries


@pytest.mark.backends("sqlite")
def test_db_log_says_when_the_database_has_no_log_yet(project):
    result = assert_ok(project.manage("db", "log"))
    assert result.stdout.strip() == (
        "no migration log yet: it starts with the next db upgrade, downgrade, stamp "
        "or validate")
    assert "migration_log" not in project.tables()
    assert json.loads(assert_ok(project.manage("db", "log", "--json")).stdout) == []


# --- failures -----------------------------------------------------------------

def test_a_failing_revision_leaves_a_failed_row(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    before = schema(project)
    project.add_revision(FAILING, HEAD, FAILING_UPGRADE, 'op.drop_table("partial")')

    failed = project.manage("db", "upgrade")

    assert failed.returncode == 1
    [row] = project.log()[len(REVISIONS):]
    assert (row["revision"], row["direction"]) == (FAILING, "upgrade")
    assert "no_such_table" in row["error"]
    assert row["checksum"] == checksum_of_file(revision_path(project, FAILING))
    log = assert_ok(project.manage("db", "log")).stdout
    if backend == "mysql":
        # MariaDB committed CREATE TABLE partial: the step never finished.
        assert row["finished_at"] is None and row["success"] is None
        assert log.splitlines()[1].split()[:3] == [FAILING, "upgrade", "unfinished"]
        current = assert_ok(project.manage("db", "current"))
        assert "warning: revision {} (test revision {}) did not finish its upgrade".format(
            FAILING, FAILING) in current.stderr
        return
    # Rolled back whole: the failed row and nothing else.
    assert row["finished_at"] is not None and not row["success"]
    assert schema(project) == before
    assert log.splitlines()[1].split()[:3] == [FAILING, "upgrade", "failed"]
    assert "    error: " in log
    assert "warning" not in assert_ok(project.manage("db", "current")).stderr


# --- validation -----------------------------------------------------------------

def test_an_edited_applied_revision_blocks_upgrade_and_downgrade(project, backend):
    project.add_revision(ADDED, HEAD, ADDED_UPGRADE, ADDED_DOWNGRADE)
    assert_ok(project.manage("db", "upgrade"))
    path = revision_path(project, FIRST)
    path.write_text(path.read_text().replace("length=128", "length=200"))
    project.add_revision("b2b2b2b2b2b2", ADDED, 'op.create_table("later", '
                         'sa.Column("id", sa.Integer, primary_key=True))')
    before = schema(project)

    for args in (("db", "upgrade"), ("db", "downgrade")):
        refused = project.manage(*args)
        assert refused.returncode == 1
        [line] = error_lines(refused.stderr)
        assert "revision {} (create users table) in {} changed after it was applied".format(
            FIRST, "migrations/versions/" + path.name) in line
        assert "upgrade and downgrade are refused" in line
        assert ACCEPT.format(FIRST) in line
        assert "Traceback" not in refused.stderr
        assert schema(project) == before

    validate = project.manage("db", "validate")
    assert validate.returncode == 1
    [line] = error_lines(validate.stderr)
    assert line.startswith("error: revision {} (create users table)".format(FIRST))
    flask = project.flask("db-validate")
    assert flask.returncode == 1 and "changed after it was applied" in flask.stderr

    accepted = assert_ok(project.manage("db", "validate", "--accept", FIRST))
    assert "accepted revision {}: checksum {}".format(
        FIRST, checksum_of_file(path)[:12]) in accepted.stdout
    assert "{} applied revision(s) match their files".format(
        len(REVISIONS) + 1) in accepted.stdout
    [accept_row] = [row for row in project.log() if row["direction"] == "accept"]
    assert (accept_row["revision"], accept_row["checksum"]) == (FIRST, checksum_of_file(path))
    assert accept_row["success"]
    assert_ok(project.manage("db", "upgrade"))
    assert "later" in project.tables()
    assert_ok(project.manage("db", "downgrade", "-1"))


def test_a_comment_or_docstring_edit_blocks_nothing(project, backend):
    assert_ok(project.manage("db", "upgrade", REVISIONS[-2]))
    path = revision_path(project, FIRST)
    text = path.read_text().replace('"""create users table', '"""create the users table')
    path.write_text("# reviewed again\n" + text.replace("\n\n\n", "\n\n\n# upgrade\n", 1))
    result = assert_ok(project.manage("db", "validate"))
    assert "{} applied revision(s) match their files".format(
        len(REVISIONS) - 1) in result.stdout
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("db", "downgrade", "base"))


def test_accepting_a_revision_without_a_problem_is_refused(project):
    assert_ok(project.manage("db", "upgrade"))
    result = project.manage("db", "validate", "--accept", FIRST)
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        'error: revision {} has no changed or missing file to accept: "python manage.py '
        'db validate" lists those'.format(FIRST)]
    assert "accept" not in [row["direction"] for row in project.log()]


def test_an_applied_revision_whose_file_is_gone_blocks_until_accepted(project, backend):
    """A revision squashed out of the chain after it ran: its file is gone,
    and the next one, which now follows its parent, changed."""
    project.add_revision(ADDED, HEAD, ADDED_UPGRADE, ADDED_DOWNGRADE)
    project.add_revision("b2b2b2b2b2b2", ADDED, "pass")
    assert_ok(project.manage("db", "upgrade"))
    revision_path(project, ADDED).unlink()
    project.add_revision("b2b2b2b2b2b2", HEAD, "pass")

    refused = project.manage("db", "upgrade")
    assert refused.returncode == 1
    [line] = error_lines(refused.stderr)
    assert "revision {} (test revision {}) was applied on ".format(ADDED, ADDED) in line
    assert "but its file is gone" in line and ACCEPT.format(ADDED) in line
    assert "(1 more: see \"python manage.py db validate\")" in line
    validate = project.manage("db", "validate")
    assert validate.returncode == 1
    problems = error_lines(validate.stderr)
    assert len(problems) == 2 and "b2b2b2b2b2b2" in problems[1]

    accepted = project.manage("db", "validate", "--accept", ADDED)
    assert "accepted revision {}: its file is gone".format(ADDED) in accepted.stdout
    assert accepted.returncode == 1  # b2b2b2b2b2b2 still differs
    assert_ok(project.manage("db", "validate", "--accept", "b2b2b2b2b2b2"))
    assert_ok(project.manage("db", "upgrade"))
    assert "nickname" in project.columns("users")
    assert [row["direction"] for row in project.log()][-2:] == ["accept", "accept"]


# --- adopting a database --------------------------------------------------------

def test_a_database_without_a_log_gets_a_baseline_and_keeps_its_schema(project, backend):
    assert_ok(project.manage("db", "upgrade", REVISIONS[-2]))
    with project.engine() as engine, engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE migration_log")
    before = schema(project)

    result = assert_ok(project.manage("db", "validate"))

    assert "{} applied revision(s) match their files".format(
        len(REVISIONS) - 1) in result.stdout
    assert schema(project) == before
    rows = project.log()
    assert [(row["revision"], row["direction"]) for row in rows] == [
        (revision, "baseline") for revision in REVISIONS[:-1]]
    assert all(row["checksum"] == checksum_of_file(revision_path(project, row["revision"]))
               for row in rows)
    # The baseline is written once; the next upgrade logs only what it runs.
    assert_ok(project.manage("db", "upgrade"))
    assert steps(project)[len(rows):] == [(HEAD, "upgrade", True)]


def test_an_untouched_database_has_no_baseline(project):
    assert_ok(project.manage("db", "validate"))
    assert project.log() == [] and project.version() is None


# The table the previous release kept its marks in, as it created it.
OLD_TABLE = sa.Table(
    "unfinished_migrations", sa.MetaData(),
    sa.Column("revision", sa.String(32), primary_key=True),
    sa.Column("direction", sa.String(9), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False,
              server_default=sa.func.current_timestamp()),
)


def as_previous_release(project, marks):
    """Make the database look as the previous release left it: no log, the
    table unfinished_migrations holding `marks` [(revision, direction)]."""
    with project.engine() as engine, engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE migration_log")
        OLD_TABLE.create(connection)
        for revision, direction in marks:
            connection.execute(OLD_TABLE.insert().values(revision=revision,
                                                         direction=direction))


def test_a_mark_of_the_previous_release_is_carried_over(project, backend):
    project.add_revision(FAILING, HEAD, "pass")
    assert_ok(project.manage("db", "upgrade", HEAD))
    as_previous_release(project, [(FAILING, "upgrade")])

    refused = project.manage("db", "upgrade")

    assert refused.returncode == 1
    [line] = error_lines(refused.stderr)
    assert "revision {} (test revision {}) did not finish its upgrade".format(
        FAILING, FAILING) in line
    assert '"python manage.py db stamp {}"'.format(HEAD) in line
    assert "unfinished_migrations" not in project.tables()
    assert project.unfinished() == [(FAILING, "upgrade")]
    [carried] = project.log()[len(REVISIONS):]
    assert carried["error"] == "carried over from unfinished_migrations"
    assert "unfinished" in assert_ok(project.manage("db", "log")).stdout

    assert_ok(project.manage("db", "stamp", HEAD))
    assert project.unfinished() == []
    assert_ok(project.manage("db", "upgrade"))
    assert project.version() == [FAILING]


def test_a_database_of_the_previous_release_without_marks_moves_on(project, backend):
    assert_ok(project.manage("db", "upgrade", REVISIONS[-2]))
    as_previous_release(project, [])
    assert_ok(project.manage("db", "upgrade"))
    assert "unfinished_migrations" not in project.tables()
    assert steps(project) == [(revision, "baseline", True) for revision in REVISIONS[:-1]] + [
        (HEAD, "upgrade", True)]


# --- several deploys at once ------------------------------------------------------

def test_eight_upgrades_started_together_log_each_revision_once(project, backend):
    processes = [project.start("db", "upgrade") for _ in range(8)]
    for process in processes:
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    assert steps(project) == [(revision, "upgrade", True) for revision in REVISIONS]
    assert project.version() == [HEAD]


# --- --sql scripts ----------------------------------------------------------------

def run_script(database_url, sql):
    """Run a --sql script with the database's own command-line client."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        command = [shutil.which("sqlite3"), "-bail", url.database]
    elif backend == "postgresql":
        command = [shutil.which("psql"), "-v", "ON_ERROR_STOP=1", "-q", "-h", url.host,
                   "-p", str(url.port or 5432), "-U", url.username, "-d", url.database]
    else:
        command = [shutil.which("mariadb") or shutil.which("mysql"), "-h", url.host,
                   "-P", str(url.port or 3306), "-u", url.username, url.database]
    result = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_an_sql_script_leaves_the_same_log_when_run(project, backend):
    project.add_revision(ADDED, HEAD, ADDED_UPGRADE, ADDED_DOWNGRADE)
    expected = REVISIONS + [ADDED]
    if backend == "sqlite":
        # The committed history alters tables in batch, which alembic cannot
        # render for SQLite without reading the table: only the last step
        # goes through a script there.
        assert_ok(project.manage("db", "upgrade", HEAD))
        sql = assert_ok(project.manage("db", "upgrade", "--sql", HEAD + ":" + ADDED)).stdout
    else:
        sql = assert_ok(project.manage("db", "upgrade", "--sql")).stdout
        assert len(re.findall(r"INSERT INTO migration_log", sql)) == len(expected)
    assert "CREATE TABLE IF NOT EXISTS migration_log" in sql

    run_script(project.database_url, sql)

    rows = project.log()
    assert [(row["revision"], row["direction"], row["checksum"], bool(row["success"]))
            for row in rows] == [
        (revision, "upgrade", checksum_of_file(revision_path(project, revision)), True)
        for revision in expected]
    assert all(row["finished_at"] is not None for row in rows)
    assert project.version() == [ADDED]
    assert "nickname" in project.columns("users")
    assert "{} applied revision(s) match their files".format(len(expected)) in assert_ok(
        project.manage("db", "validate")).stdout
    # Downgrade scripts log too, and the log's CREATE is safe to run again.
    down = assert_ok(project.manage("db", "downgrade", "--sql", ADDED + ":" + HEAD)).stdout
    run_script(project.database_url, down)
    assert steps(project)[-1] == (ADDED, "downgrade", True)
    assert project.version() == [HEAD]
    assert "nickname" not in project.columns("users")
