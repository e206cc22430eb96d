"""`db init --multidb`: one migration history for the default database and
every bind of SQLALCHEMY_BINDS, on either stack, without editing the
repository that init writes."""
import json

import pytest
import sqlalchemy as sa

from tests.support import assert_ok, error_lines, revision_id

AUDIT_MODEL = '''

class AuditEvent(db.Model):
    __bind_key__ = "audit"
    __tablename__ = "audit_events"
    id = db.Column(db.Integer, primary_key=True)
    action = db.Column(db.String(64), nullable=False)
'''


def audit_tables(url):
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_multidb_repository_migrates_every_bind_and_then_finds_nothing_new(
        project, tmp_path):
    with open(project.root / "app" / "models.py", "a") as models:
        models.write(AUDIT_MODEL)
    audit_url = "sqlite:///" + str(tmp_path / "audit.db")
    env = {"SQLALCHEMY_BINDS": json.dumps({"audit": audit_url})}

    assert_ok(project.manage("db", "init", "--multidb", "-d", "multi", env=env))
    first = assert_ok(project.manage("db", "migrate", "-d", "multi", "-m", "first", env=env))
    [script] = project.revision_files("multi")
    text = (project.root / "multi" / "versions" / script).read_text()
    assert "def upgrade_():" in text and "def upgrade_audit():" in text
    assert "op.create_table('audit_events'" in text and "op.create_table('users'" in text
    assert "Detected added table 'audit_events'" in first.stderr

    sql = assert_ok(project.manage("db", "upgrade", "-d", "multi", "--sql", env=env)).stdout
    default_part, audit_part = sql.split("-- database: audit")
    assert "-- database: (default)" in default_part and "CREATE TABLE users" in default_part
    assert "CREATE TABLE audit_events" in audit_part and "users" not in audit_part
    assert "users" not in project.tables()

    assert_ok(project.manage("db", "upgrade", "-d", "multi", env=env))
    assert "users" in project.tables() and "audit_events" not in project.tables()
    assert "audit_events" in audit_tables(audit_url)

    again = assert_ok(project.manage("db", "migrate", "-d", "multi", "-m", "again", env=env))
    assert "No changes in schema detected." in again.stderr
    assert project.revision_files("multi") == [script]

    assert_ok(project.manage("db", "downgrade", "-d", "multi", "base", env=env))
    assert "users" not in project.tables()
    assert "audit_events" not in audit_tables(audit_url)
    # The downgrade took users.role's enum type with it (PostgreSQL), so the
    # revision upgrades again.
    assert_ok(project.manage("db", "upgrade", "-d", "multi", env=env))
    assert "users" in project.tables() and "audit_events" in audit_tables(audit_url)


def test_a_multidb_repository_without_binds_fails_in_one_line(project):
    assert_ok(project.manage("db", "init", "--multidb", "-d", "multi"))
    for args in (("migrate", "-m", "x"), ("revision", "-m", "x"), ("upgrade",)):
        result = project.manage("db", args[0], "-d", "multi", *args[1:])
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert "SQLALCHEMY_BINDS is not set" in line
    assert project.revision_files("multi") == []


def test_each_database_of_a_multidb_repository_has_its_lock_and_log(project, tmp_path):
    with open(project.root / "app" / "models.py", "a") as models:
        models.write(AUDIT_MODEL)
    audit_path = tmp_path / "audit.db"
    audit_url = "sqlite:///" + str(audit_path)
    env = {"SQLALCHEMY_BINDS": json.dumps({"audit": audit_url})}
    assert_ok(project.manage("db", "init", "--multidb", "-d", "multi", env=env))
    assert_ok(project.manage("db", "migrate", "-d", "multi", "-m", "first", env=env))
    [script] = project.revision_files("multi")
    revision = revision_id(project.root / "multi" / "versions" / script)

    # The audit database's lock, held by another process, holds the run.
    from filelock import FileLock

    with FileLock(str(audit_path) + ".migration-lock"):
        waited = project.manage("db", "upgrade", "-d", "multi", "-x", "lock_timeout=0.5",
                                env=env)
    assert waited.returncode == 1
    assert "gave up after 0.5s waiting for the migration lock file {}.migration-lock".format(
        audit_path) in waited.stderr
    assert "users" not in project.tables() and "audit_events" not in audit_tables(audit_url)

    assert_ok(project.manage("db", "upgrade", "-d", "multi", env=env))
    for url in (project.database_url, audit_url):
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT revision, direction, success FROM migration_log").fetchall()
        engine.dispose()
        assert [(row[0], row[1], bool(row[2])) for row in rows] == [
            (revision, "upgrade", True)]
    log = assert_ok(project.manage("db", "log", "-d", "multi", env=env)).stdout
    assert "database (default):" in log and "database audit:" in log
    assert "2 applied revision(s)" not in assert_ok(
        project.manage("db", "validate", "-d", "multi", env=env)).stdout

    # A step that never finished on the audit database (a MariaDB revision
    # that failed half-way, a killed process) refuses the run, on every database.
    engine = sa.create_engine(audit_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO migration_log (revision, direction, started_at) "
            "VALUES ('{}', 'downgrade', CURRENT_TIMESTAMP)".format(revision))
    engine.dispose()
    refused = project.manage("db", "downgrade", "-d", "multi", "base", env=env)
    assert refused.returncode == 1
    [line] = error_lines(refused.stderr)
    assert "revision {} (first) did not finish its downgrade".format(revision) in line
    assert "users" in project.tables() and "audit_events" in audit_tables(audit_url)
    assert_ok(project.manage("db", "stamp", "-d", "multi", revision, env=env))
    assert_ok(project.manage("db", "downgrade", "-d", "multi", "base", env=env))
    assert "users" not in project.tables() and "audit_events" not in audit_tables(audit_url)


@pytest.mark.backends("postgresql", "mysql")
def test_a_multidb_repository_gets_the_plain_forms_and_runs_online_operations_plain(
        project, tmp_path):
    audit_url = "sqlite:///" + str(tmp_path / "audit.db")
    env = {"SQLALCHEMY_BINDS": json.dumps({"audit": audit_url})}
    assert_ok(project.manage("db", "init", "--multidb", "-d", "multi", env=env))
    assert_ok(project.manage("db", "migrate", "-d", "multi", "-m", "first", env=env))
    assert_ok(project.manage("db", "upgrade", "-d", "multi", env=env))
    # Its databases migrate in transactions committed together: no online form.
    project.edit_models("name = db.Column(db.String(128), nullable=False)",
                        "name = db.Column(db.String(128), nullable=False, index=True)")
    second = assert_ok(project.manage("db", "migrate", "-d", "multi", "-m", "index", env=env))
    [script] = [name for name in project.revision_files("multi") if revision_id(
        project.root / "multi" / "versions" / name) in second.stdout]
    text = (project.root / "multi" / "versions" / script).read_text()
    assert "batch_op.create_index(batch_op.f('ix_users_name')" in text
    assert "_online(" not in text
    # An online operation written by hand runs as the plain one, and says so.
    text = text.replace("batch_op.create_index(batch_op.f('ix_users_name'), ['name']",
                        "op.create_index_online(op.f('ix_users_name'), 'users', ['name']")
    (project.root / "multi" / "versions" / script).write_text(text)
    upgraded = assert_ok(project.manage("db", "upgrade", "-d", "multi", env=env))
    assert "create_index runs as the plain operation" in upgraded.stderr
    with project.engine() as engine:
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes("users")}
    assert "ix_users_name" in indexes
