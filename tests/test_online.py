"""The app keeps writing while `db upgrade` runs: what `db migrate` writes
for each change is the online form on PostgreSQL and MariaDB (and the plain
one on SQLite), passes `db lint`, runs unedited up, down and up with every
row kept; a revision stopped part-way (killed, a lock waited for too long,
rows that refuse a constraint) is finished by running `db upgrade` again;
op.backfill works in batches, each committed on its own, resumes where it
stopped, and shows its progress. Tables of 10^3 rows: the benchmark
(bench/writes_during_upgrade.py) measures the writes on big ones."""
import json
import re
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support import assert_ok, error_lines
from tests.test_autogenerate import (
    NAME_COLUMN,
    NEW_NOT_NULL_PROMPT,
    assert_clean,
    execute,
    round_trip,
)
from tests.test_cli import new_revision_id

ROWS = 1000
ONLINE = ("postgresql", "mysql")
INDEXED_NAME = "name = db.Column(db.String(128), nullable=False, index=True)"
TEAM_MODEL = '''

class Team(db.Model):
    __tablename__ = "teams"

    id = db.Column(db.Integer, primary_key=True)
'''
TEAM_ID = "    team_id = db.Column(db.Integer)"
TEAM_KEY = '    team_id = db.Column(db.Integer, db.ForeignKey("teams.id"))'


@pytest.fixture
def populated(project):
    """The project's database at head, its users table holding ROWS users."""
    assert_ok(project.manage("db", "upgrade"))
    with project.engine() as engine, engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name, email) VALUES (:name, :email)"),
                           [{"name": "user {}".format(n), "email": "u{}@example.com".format(n)}
                            for n in range(1, ROWS + 1)])
    return project


def migrate(project, message, answers=()):
    """`db migrate -m message` (at a pseudo-terminal, with `answers`);
    (revision id, the revision's text, followed by the text of the revision
    it wrote to run after the deploy, if any)."""
    if answers:
        code, screen = project.manage_on_terminal("db", "migrate", "-m", message,
                                                  answers=answers)
        assert code == 0 and "Traceback" not in screen, screen
        output = screen
    else:
        output = assert_ok(project.manage("db", "migrate", "-m", message)).stdout
    revisions = re.findall(r"_([0-9a-f]{12})_\w+\.py", output)
    texts = []
    for revision in dict.fromkeys(revisions):
        [name] = [n for n in project.revision_files() if revision in n]
        texts.append((project.root / "migrations" / "versions" / name).read_text())
    return revisions[0], "\n".join(texts)


def assert_runs_online(project, script, expected):
    """The revision holds each of `expected`, passes db lint with no error,
    and runs unedited: upgrade, check, downgrade -1, upgrade, check, with
    every row kept."""
    for part in expected:
        assert part in script, script
    round_trip(project)
    assert count(project, "SELECT COUNT(*) FROM users") == ROWS


def failure_line(result):
    """The one line a failed command printed, besides the progress of backfills."""
    [line] = [line for line in error_lines(result.stderr) if not line.startswith("backfill ")]
    return line


def count(project, sql):
    return execute(project, sql)[0][0]


def with_teams(project, orphan=None):
    """A teams table and a filled users.team_id without a foreign key (made by
    db migrate); with `orphan`, one user points at that missing team."""
    project.add_to_model(TEAM_ID)
    models = project.root / "app" / "models.py"
    models.write_text(models.read_text() + TEAM_MODEL)
    migrate(project, "teams")
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO teams (id) VALUES (1), (2), (3)")
    execute(project, "UPDATE users SET team_id = 1 + id % 3")
    if orphan is not None:
        execute(project, "UPDATE users SET team_id = {} WHERE id = 7".format(orphan))
    project.edit_models(TEAM_ID, TEAM_KEY)


@pytest.mark.backends(*ONLINE)
def test_an_index_on_an_existing_column_is_built_online(populated, backend):
    populated.edit_models(NAME_COLUMN, INDEXED_NAME)
    _, script = migrate(populated, "index on name")
    assert_runs_online(populated, script, [
        "op.create_index_online(op.f('ix_users_name'), 'users', ['name']",
        "op.drop_index_online(op.f('ix_users_name'), table_name='users')"])
    assert "batch_op.create_index" not in script


@pytest.mark.backends(*ONLINE)
def test_a_new_unique_column_gets_its_constraint_online(populated, backend):
    populated.add_to_model("    nickname = db.Column(db.String(64), unique=True)")
    _, script = migrate(populated, "nickname")
    assert_runs_online(populated, script, [
        "batch_op.add_column(sa.Column('nickname'",
        "op.create_unique_online(op.f('uq_users_nickname'), 'users', ['nickname'])"])
    execute(populated, "UPDATE users SET nickname = 'ann' WHERE id = 1")
    with pytest.raises(DBAPIError):
        execute(populated, "UPDATE users SET nickname = 'ann' WHERE id = 2")


@pytest.mark.backends(*ONLINE)
def test_a_foreign_key_on_a_filled_column_is_added_online(populated, backend):
    with_teams(populated)
    _, script = migrate(populated, "team key")
    assert_runs_online(populated, script, [
        "op.create_foreign_key_online(op.f('fk_users_team_id_teams'), 'users', 'teams', "
        "['team_id'], ['id'])"])
    with pytest.raises(DBAPIError):
        execute(populated, "UPDATE users SET team_id = 99 WHERE id = 1")


@pytest.mark.backends(*ONLINE)
def test_rows_that_break_a_new_foreign_key_are_named_and_a_rerun_finishes(populated, backend):
    with_teams(populated, orphan=42)
    revision, _ = migrate(populated, "team key")
    failed = populated.manage("db", "upgrade")
    assert failed.returncode == 1
    line = failure_line(failed)
    assert "revision {} (team key) stopped part-way through its upgrade".format(revision) in line
    assert "users.team_id holds values that teams" in line and "42" in line
    assert "the next run goes on from there" in line and "Traceback" not in failed.stderr
    assert populated.unfinished() == [(revision, "upgrade")]

    execute(populated, "UPDATE users SET team_id = 1 WHERE id = 7")
    assert_ok(populated.manage("db", "upgrade"))
    assert populated.version() == [revision]
    assert populated.unfinished() == []
    assert_clean(populated)
    runs = [(row["direction"], row["success"]) for row in populated.log()
            if row["revision"] == revision]
    assert runs == [("upgrade", False), ("upgrade", True)]


@pytest.mark.backends(*ONLINE)
def test_a_column_made_not_null_is_backfilled_in_batches_then_altered_online(populated,
                                                                            backend):
    populated.add_to_model("    nickname = db.Column(db.String(64))")
    migrate(populated, "nickname")
    assert_ok(populated.manage("db", "upgrade"))
    execute(populated, "UPDATE users SET nickname = 'early' WHERE id <= 10")
    populated.edit_models("nickname = db.Column(db.String(64))",
                          "nickname = db.Column(db.String(64), nullable=False)")
    _, script = migrate(populated, "nickname required",
                        answers=[(NEW_NOT_NULL_PROMPT, "'anon'")])
    expected = ["op.backfill('users', {'nickname': 'anon'}, where='nickname IS NULL')"]
    if backend == "postgresql":
        expected.append("op.set_not_null_online('users', 'nickname'")
    assert "op.execute(" not in script
    assert_runs_online(populated, script, expected)
    assert execute(populated, "SELECT nickname, COUNT(*) FROM users GROUP BY nickname "
                              "ORDER BY nickname") == [("anon", ROWS - 10), ("early", 10)]
    with pytest.raises(DBAPIError):
        execute(populated, "UPDATE users SET nickname = NULL WHERE id = 1")


@pytest.mark.backends(*ONLINE)
def test_a_new_not_null_column_takes_its_value_from_a_default_dropped_after(populated,
                                                                           backend):
    populated.add_to_model("    team = db.Column(db.String(20), nullable=False)")
    _, script = migrate(populated, "team", answers=[(NEW_NOT_NULL_PROMPT, "'red'")])
    assert_runs_online(populated, script, [
        "sa.Column('team', sa.String(length=20), server_default=sa.text(\"'red'\"), "
        "nullable=False)", "server_default=None"])
    assert "op.execute(" not in script and "backfill" not in script
    assert execute(populated, "SELECT team, COUNT(*) FROM users GROUP BY team") == [
        ("red", ROWS)]
    with pytest.raises(DBAPIError):  # the default is gone, as the model says
        execute(populated, "INSERT INTO users (name, email) VALUES ('x', 'x@example.com')")


@pytest.mark.backends("sqlite")
def test_sqlite_gets_the_plain_forms(populated):
    populated.edit_models(NAME_COLUMN, INDEXED_NAME)
    _, script = migrate(populated, "index on name")
    assert "batch_op.create_index(batch_op.f('ix_users_name')" in script
    assert "_online(" not in script
    assert_runs_online(populated, script, [])


@pytest.mark.backends("postgresql")
def test_migrate_online_0_writes_the_plain_forms(populated):
    populated.edit_models(NAME_COLUMN, INDEXED_NAME)
    result = assert_ok(populated.manage("db", "migrate", "-m", "plain",
                                        env={"MIGRATE_ONLINE": "0"}))
    script = next((populated.root / "migrations" / "versions").glob(
        "*{}*.py".format(new_revision_id(result)))).read_text()
    assert "batch_op.create_index(batch_op.f('ix_users_name')" in script
    assert "_online(" not in script


@contextmanager
def holding_users_row(project, row_id):
    """An open transaction of another client that has updated one row of
    users, as a long request or an idle session in a transaction does."""
    with project.engine() as engine, engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("UPDATE users SET name = name WHERE id = :id"), {"id": row_id})
        try:
            yield connection
        finally:
            transaction.rollback()


def backend_running(project, statement_start, process, timeout=30):
    """The PostgreSQL backend pid running a statement that starts so, for
    `process` (which must not end first)."""
    deadline = time.monotonic() + timeout
    # Autocommit: a transaction would see pg_stat_activity as it first read it.
    with project.engine() as engine, \
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError("ended first: " + "".join(process.communicate()))
            pid = connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE :start"), {"start": statement_start + "%"}).scalar()
            if pid is not None:
                return pid
            time.sleep(0.1)
    raise AssertionError("no backend ran " + statement_start)


def index_validity(project, name):
    """True, False (an INVALID index), or None when there is no such index."""
    rows = execute(project, "SELECT i.indisvalid FROM pg_index i JOIN pg_class c "
                            "ON c.oid = i.indexrelid WHERE c.relname = '{}'".format(name))
    return rows[0][0] if rows else None


@pytest.mark.backends("postgresql")
def test_an_upgrade_killed_during_a_concurrent_index_build_finishes_when_run_again(populated):
    populated.edit_models(NAME_COLUMN, INDEXED_NAME)
    revision, _ = migrate(populated, "index on name")
    with holding_users_row(populated, 1):
        # The build waits for the open transaction: the moment to kill it.
        upgrade = populated.start("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "60"})
        pid = backend_running(populated, "CREATE INDEX CONCURRENTLY", upgrade)
        upgrade.kill()
        upgrade.communicate()
        # The server side of the dead process ends too (its cancelled build
        # leaves the index INVALID), as when the connection drops.
        execute(populated, "SELECT pg_terminate_backend({})".format(pid))
    assert populated.unfinished() == [(revision, "upgrade")]
    assert index_validity(populated, "ix_users_name") is False
    [entry] = [entry for entry in json.loads(assert_ok(populated.manage(
        "db", "log", "--json")).stdout) if entry["status"] == "unfinished"]
    assert entry["revision"] == revision and entry["steps_done"] == 0
    assert "upgrade    unfinished (0 done)" in assert_ok(populated.manage("db", "log")).stdout
    current = assert_ok(populated.manage("db", "current"))
    assert "stopped part-way through its upgrade" in current.stderr
    assert '"python manage.py db upgrade" goes on from there' in current.stderr

    assert_ok(populated.manage("db", "upgrade"))
    assert index_validity(populated, "ix_users_name") is True
    assert populated.version() == [revision]
    assert populated.unfinished() == []
    assert_clean(populated)
    runs = [(row["direction"], row["success"], row["error"]) for row in populated.log()
            if row["revision"] == revision]
    assert runs[0][:2] == ("upgrade", False) and "the next run went on" in runs[0][2]
    assert runs[1][:2] == ("upgrade", True)


@pytest.mark.backends("postgresql")
def test_a_concurrent_build_that_waits_too_long_fails_in_one_line_and_a_rerun_finishes(
        populated):
    populated.edit_models(NAME_COLUMN, INDEXED_NAME)
    revision, _ = migrate(populated, "index on name")
    with holding_users_row(populated, 1):
        started = time.monotonic()
        failed = populated.manage("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "2"})
        waited = time.monotonic() - started
    assert failed.returncode == 1 and waited < 9  # the default would wait 10 s
    line = failure_line(failed)
    assert "revision {} (index on name) stopped part-way through its upgrade: it waited " \
           "more than 2s for a lock on table users".format(revision) in line
    assert "the next run goes on from there" in line
    assert index_validity(populated, "ix_users_name") is False

    assert_ok(populated.manage("db", "upgrade"))
    assert index_validity(populated, "ix_users_name") is True
    assert_clean(populated)


@pytest.mark.backends("postgresql")
def test_a_constraint_waiting_for_its_lock_lets_the_app_write_between_tries(populated):
    with_teams(populated)
    revision, _ = migrate(populated, "team key")
    with holding_users_row(populated, 1) as blocker:
        upgrade = populated.start("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "60"})
        backend_running(populated, "ALTER TABLE users ADD CONSTRAINT", upgrade)
        # A plain ALTER would hold its place in the lock queue until the open
        # transaction ends, and every write of the app would queue behind it.
        with populated.engine() as engine, engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text("INSERT INTO users (name, email, team_id) "
                                    "VALUES ('Dee', 'dee@example.com', 1)"))
        assert blocker.in_transaction() and upgrade.poll() is None
    output, errors = upgrade.communicate(timeout=60)
    assert upgrade.returncode == 0, output + errors
    assert populated.version() == [revision]
    assert_clean(populated)


VISITS = "visits"
BACKFILL_SETUP, BACKFILL = "b0f1a0000001", "b0f1a0000002"


def with_backfill_revisions(project, batch_size=100):
    """Two revisions after head: one adds users.visits (0), the next adds 1 to
    it on every row with op.backfill, `batch_size` keys a batch, no pause. A
    row counted twice would show 2."""
    head = project.version()[0]
    project.add_revision(BACKFILL_SETUP, head,
                         'op.add_column("users", sa.Column("visits", sa.Integer, '
                         'nullable=False, server_default="0"))',
                         'op.drop_column("users", "visits")')
    project.add_revision(BACKFILL, BACKFILL_SETUP,
                         'op.backfill("users", {{"visits": sa.text("visits + 1")}}, '
                         'batch_size={}, pause=0)'.format(batch_size))
    assert_ok(project.manage("db", "upgrade", BACKFILL_SETUP))


def visits(project):
    """{visits: how many rows}."""
    return dict(execute(project, "SELECT visits, COUNT(*) FROM users GROUP BY visits"))


@pytest.mark.backends(*ONLINE)
def test_a_backfill_commits_each_batch_and_resumes_after_a_lock_timeout(populated, backend):
    with_backfill_revisions(populated)
    with holding_users_row(populated, 550):
        failed = populated.manage("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "2"})
    assert failed.returncode == 1
    line = failure_line(failed)
    assert "revision {} (test revision {}) stopped part-way through its upgrade: it waited " \
           "more than 2s for a lock on table users".format(BACKFILL, BACKFILL) in line
    # The batches before the locked row are committed, each on its own; the
    # log keeps where the backfill stopped.
    [unfinished] = [row for row in populated.log() if row["finished_at"] is None]
    resume_at = int(unfinished["resume_key"])
    assert 100 < resume_at <= 550
    assert count(populated, "SELECT COUNT(*) FROM users WHERE visits = 1 AND id < {}".format(
        resume_at)) == resume_at - 1
    assert count(populated, "SELECT COUNT(*) FROM users WHERE visits = 0 AND id >= {}".format(
        resume_at)) == ROWS - resume_at + 1

    assert_ok(populated.manage("db", "upgrade"))
    assert visits(populated) == {1: ROWS}  # every row once: the rerun did only the rest
    assert populated.version() == [BACKFILL]


@pytest.mark.backends("postgresql")
def test_each_batch_of_a_backfill_is_its_own_transaction(populated):
    with_backfill_revisions(populated, batch_size=100)
    assert_ok(populated.manage("db", "upgrade"))
    assert visits(populated) == {1: ROWS}
    # Each transaction stamps the rows it wrote with its own id.
    assert count(populated, "SELECT COUNT(DISTINCT xmin::text) FROM users") == ROWS // 100


@pytest.mark.backends("sqlite")
def test_a_backfill_on_sqlite_runs_in_the_revision(populated):
    with_backfill_revisions(populated)
    assert_ok(populated.manage("db", "upgrade"))
    assert visits(populated) == {1: ROWS}


@pytest.mark.backends("postgresql")
def test_a_backfill_shows_a_bar_at_a_terminal_and_a_line_per_tenth_in_a_log(populated):
    with_backfill_revisions(populated)
    logged = assert_ok(populated.manage("db", "upgrade"))
    lines = [line for line in logged.stderr.splitlines() if line.startswith("backfill ")]
    assert lines == ["backfill users.visits: {}% ({} rows)".format(tenth * 10, tenth * 100)
                     for tenth in range(1, 11)]

    assert_ok(populated.manage("db", "downgrade", BACKFILL_SETUP))
    execute(populated, "UPDATE users SET visits = 0")
    code, screen = populated.manage_on_terminal("db", "upgrade")
    assert code == 0, screen
    assert re.search(r"\rbackfill users\.visits \[#{30}\] 100% 1000 rows, \d+ rows/s", screen)
    assert "backfill users.visits: 10%" not in screen
    assert visits(populated) == {1: ROWS}


def test_a_log_of_an_earlier_release_gets_the_columns_of_a_resumable_revision(populated,
                                                                             backend):
    execute(populated, "ALTER TABLE migration_log DROP COLUMN steps_done")
    execute(populated, "ALTER TABLE migration_log DROP COLUMN resume_key")
    # The commands that only read the log read it as it is.
    assert_ok(populated.manage("db", "current"))
    assert "upgrade" in assert_ok(populated.manage("db", "log")).stdout
    assert "steps_done" not in populated.columns("migration_log")
    populated.edit_models(NAME_COLUMN, INDEXED_NAME)
    migrate(populated, "index on name")
    assert_ok(populated.manage("db", "upgrade"))
    assert {"steps_done", "resume_key"} <= set(populated.columns("migration_log"))
    assert populated.log()[-1]["success"]

