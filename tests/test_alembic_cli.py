"""The raw `alembic` commands of the Alembic tutorials, run from the project
root through the same env as `python manage.py db ...`: the project's
alembic.ini points them at migrations/, and the env finds the app, takes the
migration lock and keeps the unfinished-revision marks."""
import re

from tests.support import assert_ok, committed_revisions, error_lines
from tests.test_databases import FAILING, FAILING_DOWNGRADE, FAILING_UPGRADE, start_slow_upgrade

REVISIONS = [revision for revision, _ in committed_revisions()]
HEAD = REVISIONS[-1]


def test_the_alembic_tutorial_commands_run_from_the_project_root(project):
    assert_ok(project.alembic("upgrade", "head"))
    assert project.version() == [HEAD]
    assert assert_ok(project.alembic("current")).stdout.strip() == HEAD + " (head)"
    history = assert_ok(project.alembic("history")).stdout
    assert all(revision in history for revision in REVISIONS)

    assert_ok(project.alembic("downgrade", "-1"))
    assert project.version() == [REVISIONS[-2]]
    # manage.py sees what alembic did, and the other way round.
    assert assert_ok(project.manage("db", "current")).stdout.strip() == REVISIONS[-2]
    assert_ok(project.manage("db", "upgrade"))
    assert assert_ok(project.alembic("current")).stdout.strip() == HEAD + " (head)"

    project.add_to_model("    nickname = db.Column(db.String(64))")
    generated = assert_ok(project.alembic("revision", "--autogenerate", "-m", "add nickname"))
    match = re.search(r"Generating \S+_([0-9a-f]{12})_add_nickname\.py", generated.stdout)
    assert match, generated.stdout
    script = next(name for name in project.revision_files() if match.group(1) in name)
    text = (project.root / "migrations" / "versions" / script).read_text()
    assert "batch_op.add_column(sa.Column('nickname', sa.String(length=64)" in text
    assert_ok(project.alembic("upgrade", "head"))
    assert "nickname" in project.columns("users")
    assert "the models match the migrations" in assert_ok(project.manage("db", "check")).stdout

    assert_ok(project.alembic("downgrade", "base"))
    assert project.version() == []
    assert "users" not in project.tables()


def test_alembic_revision_with_no_model_change_writes_nothing(project):
    assert_ok(project.alembic("upgrade", "head"))
    before = project.revision_files()
    result = assert_ok(project.alembic("revision", "--autogenerate", "-m", "nothing"))
    assert "No changes in schema detected." in result.stderr
    assert project.revision_files() == before


def test_alembic_upgrade_waits_for_the_migration_lock_of_manage_py(project):
    first = start_slow_upgrade(project, 30)
    try:
        second = project.alembic("-x", "lock_timeout=1", "upgrade", "head")
    finally:
        first.kill()
        first.communicate()
    assert second.returncode == 255  # alembic's exit code for the errors it reports
    lines = error_lines(second.stderr)
    assert lines[0].startswith("waiting for the migration lock")
    assert "gave up after 1s waiting for the migration lock" in " ".join(lines[1:])
    assert "Traceback" not in second.stderr
    assert project.version() == [HEAD]


def test_alembic_upgrade_keeps_the_unfinished_marks(project, backend):
    project.add_revision(FAILING, HEAD, FAILING_UPGRADE, FAILING_DOWNGRADE)
    assert_ok(project.alembic("upgrade", HEAD))
    failed = project.alembic("upgrade", "head", env={"FAIL_REVISION": "1"})
    assert failed.returncode != 0
    assert "Traceback" not in failed.stderr
    assert "revision {}".format(FAILING) in failed.stdout + failed.stderr
    assert project.version() == [HEAD]
    if backend == "mysql":
        # MySQL commits each DDL statement: the revision is marked, and
        # every door refuses to go on until it is resolved.
        assert project.unfinished() == [(FAILING, "upgrade")]
        refused = project.alembic("upgrade", "head")
        assert refused.returncode != 0
        assert "did not finish" in refused.stdout + refused.stderr
        assert project.manage("db", "upgrade").returncode == 1
    else:
        assert "partial" not in project.tables()
        assert project.unfinished() == []
        assert_ok(project.alembic("upgrade", "head"))
        assert project.version() == [FAILING]
