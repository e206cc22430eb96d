"""The two phases of a release: db migrate writes what removes something the
old release still uses on the post_deploy branch, `db upgrade -x
phase=pre-deploy` runs the rest before the deploy, `-x phase=post-deploy`
after it, and plain `db upgrade` everything; through manage.py, flask and
raw alembic."""
import json
import pathlib
import re

import pytest
from sqlalchemy import text

from tests.support import assert_ok, error_lines

UPDATED_AT = "    updated_at = db.Column("
NICKNAME = "    nickname = db.Column(db.String(64))"


def upgrade(project, door, phase=None):
    """db upgrade [-x phase=<phase>] through `door`."""
    x = ["-x", "phase=" + phase] if phase else []
    if door == "manage.py":
        return project.manage("db", "upgrade", *x)
    if door == "flask":
        return project.flask("db", "upgrade", *x)
    return project.alembic(*x, "upgrade", "head")


def downgrade(project, door):
    """db downgrade -1 through `door`."""
    if door == "manage.py":
        return project.manage("db", "downgrade")
    if door == "flask":
        return project.flask("db", "downgrade")
    return project.alembic("downgrade", "-1")


def execute(project, sql):
    with project.engine() as engine, engine.begin() as connection:
        result = connection.execute(text(sql))
        return [tuple(row) for row in result] if result.returns_rows else None


@pytest.fixture
def users(project):
    """The project at head with one user, and a model change that adds
    users.nickname and drops users.updated_at, written by db migrate."""
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO users (name, email) VALUES ('Ann', 'ann@example.com')")
    project.edit_models(UPDATED_AT, "    updated_at_gone = None and db.Column(")
    project.add_to_model(NICKNAME)
    return project


def written(project, result):
    """{revision id: text} of the revisions db migrate says it wrote, in order."""
    paths = re.findall(r"Generating (\S+\.py)", result.stdout)
    return {re.search(r"([0-9a-f]{12})_\w*\.py$", path).group(1):
            pathlib.Path(path).read_text() for path in paths}


def test_db_migrate_writes_the_drop_after_the_deploy(users):
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    assert "Writing the change in two phases" in result.stderr
    (before_id, before), (after_id, after) = written(users, result).items()
    assert "add_column" in before and "drop_column('updated_at')" not in before
    assert "down_revision = '8f3a6c2d5e71'" in before
    assert "drop_column('updated_at')" in after and "add_column" in after  # its downgrade
    assert "branch_labels = ('post_deploy',)" in after
    assert "down_revision = None" in after and "depends_on = '{}'".format(before_id) in after
    heads = assert_ok(users.manage("db", "heads")).stdout
    assert "{} (post_deploy) (head)".format(after_id) in heads

    # The next change that drops something follows the branch's head.
    assert_ok(users.manage("db", "upgrade"))
    users.edit_models(NICKNAME, "")
    result = assert_ok(users.manage("db", "migrate", "-m", "no nickname"))
    [(next_id, following)] = written(users, result).items()
    assert "down_revision = '{}'".format(after_id) in following
    assert "branch_labels = None" in following
    assert "depends_on = '{}'".format(before_id) in following  # the main line's head
    assert_ok(users.manage("db", "upgrade"))
    assert "nickname" not in users.columns("users")


@pytest.mark.parametrize("door", ["manage.py", "flask", "alembic"])
def test_each_phase_runs_its_own_part(users, door):
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))

    assert_ok(upgrade(users, door, "pre-deploy"))
    columns = users.columns("users")
    assert "nickname" in columns and "updated_at" in columns
    # The old release still writes updated_at; the new one writes nickname.
    execute(users, "INSERT INTO users (name, email, updated_at) VALUES "
                   "('Bob', 'bob@example.com', CURRENT_TIMESTAMP)")
    execute(users, "INSERT INTO users (name, email, nickname) VALUES "
                   "('Cy', 'cy@example.com', 'cy')")
    current = assert_ok(users.manage("db", "current"))
    [note] = error_lines(current.stderr)
    assert '1 post-deploy migration(s) not applied: after the deploy, run "python manage.py ' \
           'db upgrade -x phase=post-deploy"' in note

    assert_ok(upgrade(users, door, "post-deploy"))
    assert "updated_at" not in users.columns("users")
    assert "No changes" in assert_ok(users.manage("db", "check")).stdout
    assert not error_lines(assert_ok(users.manage("db", "current")).stderr)
    log = json.loads(assert_ok(users.manage("db", "log", "--json")).stdout)
    assert [entry["after_deploy"] for entry in log[:2]] == [True, False]
    assert "[post-deploy] after the deploy: nickname" in users.manage("db", "log").stdout
    assert execute(users, "SELECT name, nickname FROM users ORDER BY id") == [
        ("Ann", None), ("Bob", None), ("Cy", "cy")]

    # Back: the post-deploy revision first, then the main line's.
    assert_ok(downgrade(users, door))
    assert "updated_at" in users.columns("users") and "nickname" in users.columns("users")
    assert_ok(downgrade(users, door))
    assert "nickname" not in users.columns("users")
    assert users.version() == ["8f3a6c2d5e71"]


def test_db_upgrade_runs_both_phases(users):
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    result = assert_ok(users.manage("db", "upgrade"))
    assert "after the deploy: nickname" in result.stderr
    columns = users.columns("users")
    assert "nickname" in columns and "updated_at" not in columns
    assert "No changes" in assert_ok(users.manage("db", "check")).stdout


@pytest.mark.backends("sqlite")
def test_the_post_deploy_phase_alone_runs_the_pre_deploy_part_too(users):
    """A deploy that skipped the first phase loses nothing: after the deploy
    means everything."""
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    assert_ok(users.manage("db", "upgrade", "-x", "phase=post-deploy"))
    columns = users.columns("users")
    assert "nickname" in columns and "updated_at" not in columns


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door", ["manage.py", "alembic"])
@pytest.mark.parametrize("args, message", [
    (("-x", "phase=later"), 'phase must be "pre-deploy" or "post-deploy", not "later"'),
    (("8f3a6c2d5e71", "-x", "phase=pre-deploy"),
     "-x phase=pre-deploy upgrades to the phase's own heads; it takes no revision "
     "(not 8f3a6c2d5e71)"),
])
def test_a_wrong_phase_is_one_line(users, door, args, message):
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    before = users.version(), users.columns("users")
    if door == "manage.py":
        result = users.manage("db", "upgrade", *args)
    else:
        revision = [a for a in args[:1] if not a.startswith("-")] or ["head"]
        result = users.alembic(*[a for a in args if a not in revision], "upgrade", *revision)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert line.endswith("Error: " + message) or line.endswith(" " + message), line
    assert (users.version(), users.columns("users")) == before


@pytest.mark.backends("sqlite")
def test_migrate_phases_off_writes_one_revision(users):
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname",
                                    env={"MIGRATE_PHASES": "0"}))
    [(_, revision)] = written(users, result).items()
    assert "add_column" in revision and "drop_column('updated_at')" in revision
    assert "post_deploy" not in revision


@pytest.mark.backends("sqlite")
def test_healthz_is_ok_while_only_post_deploy_revisions_wait(users):
    """The new release serves between the phases: /healthz says ok, and
    which revisions wait for the deploy to end."""
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    after_id = list(written(users, result))[1]
    assert_ok(users.manage("db", "upgrade", "-x", "phase=pre-deploy"))
    with users.runserver() as server:
        status, body = server.wait()
    assert status == 200
    answer = json.loads(body)
    assert answer["status"] == "ok" and answer["pending_after_deploy"] == [after_id]
    assert "post-deploy migration(s) not applied" in server.stderr
