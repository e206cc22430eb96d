"""The committed migration history: one head, every revision upgrades and
downgrades cleanly (a stairway), the models match it, and rows written at any
revision survive every later upgrade."""
import pytest
import sqlalchemy as sa
from pytest_alembic.tests import (  # noqa: F401  (collected as tests here)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from app.extensions import db, migrate
from app.models import ROLES
from tests.support import committed_revisions

REVISIONS = committed_revisions()
BOOKKEEPING_TABLES = {"alembic_version", "migration_log"}
REVISION_IDS = [revision for revision, _ in REVISIONS]


@pytest.fixture
def alembic_config(app):
    """pytest-alembic runs Flask-Migrate's own configuration of migrations/."""
    return migrate.get_config()


@pytest.fixture
def alembic_engine(app):
    return db.engine


def schema_snapshot(connection):
    """Everything a downgrade must put back: tables, columns, constraints,
    indexes and (on PostgreSQL) enum types."""
    inspector = sa.inspect(connection)
    tables = {}
    for table in set(inspector.get_table_names()) - BOOKKEEPING_TABLES:
        tables[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)],
            "unique": sorted(u["name"] for u in inspector.get_unique_constraints(table)),
            "indexes": sorted(i["name"] for i in inspector.get_indexes(table)),
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(table)),
        }
    if connection.dialect.name == "postgresql":
        tables["<enum types>"] = sorted(e["name"] for e in inspector.get_enums())
    return tables


@pytest.mark.parametrize("revision", REVISION_IDS,
                         ids=["{} {}".format(rev, doc) for rev, doc in REVISIONS])
def test_stairway(alembic_runner, alembic_engine, revision):
    """Upgrade to the revision, downgrade one step, upgrade again; the
    downgrade must leave the schema exactly as it was before the upgrade."""
    index = REVISION_IDS.index(revision)
    if index:
        alembic_runner.migrate_up_to(REVISION_IDS[index - 1])
    with alembic_engine.connect() as connection:
        before = schema_snapshot(connection)
    alembic_runner.migrate_up_to(revision)
    alembic_runner.migrate_down_one()
    with alembic_engine.connect() as connection:
        assert schema_snapshot(connection) == before
    alembic_runner.migrate_up_one()
    assert alembic_runner.current == revision


users = sa.table("users", *(sa.column(name) for name in (
    "id", "name", "email", "role", "created_at", "updated_at", "password_hash")))

# A password hash as the accounts revision's users.password_hash holds one.
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
# A row written at each revision, in the columns that revision has.
ROWS_BY_REVISION = {
    REVISION_IDS[0]: {"id": 1, "name": "Ada"},
    REVISION_IDS[1]: {"id": 2, "name": "Grace", "email": "grace@example.com"},
    REVISION_IDS[2]: {"id": 3, "name": "Edsger", "email": "edsger@example.com",
                      "role": "admin"},
    REVISION_IDS[3]: {"id": 4, "name": "Barbara", "email": "barbara@example.com",
                      "role": "super_user"},
    REVISION_IDS[4]: {"id": 5, "name": "José", "email": "josé@example.com"},
    REVISION_IDS[5]: {"id": 6, "name": "Alan", "email": "alan@example.com",
                      "password_hash": PASSWORD_HASH},
}


def test_rows_written_at_every_revision_survive_every_later_upgrade(
        alembic_runner, alembic_engine):
    for revision in REVISION_IDS:
        alembic_runner.migrate_up_to(revision)
        with alembic_engine.begin() as connection:
            connection.execute(users.insert().values(**ROWS_BY_REVISION[revision]))

    with alembic_engine.connect() as connection:
        rows = connection.execute(
            sa.select(users.c.id, users.c.name, users.c.email, users.c.role,
                      users.c.password_hash)
            .order_by(users.c.id)).all()
        missing_timestamps = connection.execute(
            sa.select(sa.func.count()).select_from(users).where(
                sa.or_(users.c.created_at.is_(None), users.c.updated_at.is_(None)))
        ).scalar()
    # Users from before the accounts have no password (they cannot sign in).
    assert [tuple(row) for row in rows] == [
        (1, "Ada", "user-1@placeholder.invalid", "user", None),
        (2, "Grace", "grace@example.com", "user", None),
        (3, "Edsger", "edsger@example.com", "admin", None),
        (4, "Barbara", "barbara@example.com", "super_user", None),
        (5, "José", "josé@example.com", "user", None),
        (6, "Alan", "alan@example.com", "user", PASSWORD_HASH),
    ]
    assert missing_timestamps == 0


def test_downgrading_to_base_keeps_every_row_until_the_table_goes(
        alembic_runner, alembic_engine):
    alembic_runner.migrate_up_to("heads")
    with alembic_engine.begin() as connection:
        for row in ROWS_BY_REVISION.values():
            connection.execute(users.insert().values(
                **dict({"email": "u{}@example.com".format(row["id"])}, **row)))
    alembic_runner.migrate_down_to(REVISION_IDS[0])
    with alembic_engine.connect() as connection:
        names = connection.execute(
            sa.select(users.c.name).order_by(users.c.id)).scalars().all()
    assert names == ["Ada", "Grace", "Edsger", "Barbara", "José", "Alan"]


def test_the_email_backfill_fills_every_row_across_batches(alembic_runner, alembic_engine):
    # Ids far apart, so the backfill runs several batches, some of them empty.
    ids = list(range(1, 51)) + [120000 + n for n in range(1, 51)]
    alembic_runner.migrate_up_to(REVISION_IDS[0])
    with alembic_engine.begin() as connection:
        connection.execute(users.insert(), [{"id": n, "name": "n"} for n in ids])
    alembic_runner.migrate_up_to(REVISION_IDS[1])
    with alembic_engine.connect() as connection:
        emails = connection.execute(sa.select(users.c.email)).scalars().all()
    assert sorted(emails) == sorted("user-{}@placeholder.invalid".format(n) for n in ids)


@pytest.mark.parametrize("role", ["bogus", "USER", ""])
def test_the_role_column_holds_nothing_but_a_known_role(migrated_app, role):
    """PostgreSQL and SQLite refuse the value; MySQL's ENUM matches case-
    insensitively and stores 'USER' as 'user'. Either way, never 'bogus'."""
    try:
        with db.engine.begin() as connection:
            connection.execute(users.insert().values(
                name="x", email="x@example.com", role=role))
    except sa.exc.DBAPIError:
        return
    with db.engine.connect() as connection:
        stored = connection.execute(sa.select(users.c.role)).scalar_one()
    assert stored in ROLES
