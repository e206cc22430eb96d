"""`db lint`'s verdicts checked against the servers themselves, on tables of
a few rows (behaviour, not timing): each revision is linted as the command
lints it, and the SQL it runs is run on the server.

- MariaDB: what lint calls in place is accepted with ALGORITHM=INPLACE,
  LOCK=NONE appended; what it calls a table copy is refused with it.
- PostgreSQL: a type change lint calls catalog-only leaves the table's and
  its index's files (relfilenode) as they were, one it flags rewrites them;
  SET NOT NULL reads every row under ACCESS EXCLUSIVE unless a valid CHECK
  proves it.
"""
import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import postgresql as postgresql_dialect

from app.migrating.lint import mysql
from app.migrating.lint.check import Database, check_revisions
from app.migrating.lint.findings import NOTE
from app.migrating.lint.rehearsal import rehearse
from tests.support import Project

ADDED = "b2b2b2b2b2b2"
# MariaDB's refusals of ALGORITHM=INPLACE / INSTANT: "not supported, try
# ALGORITHM=COPY".
NOT_IN_PLACE = (1845, 1846)


def lint_here(tmp_path, body, dialect, major_version=None):
    """db lint on a revision whose upgrade() is `body`, for `dialect`:
    (its findings and notes, the SQL statements it runs there)."""
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    Project(tmp_path, None).add_revision(ADDED, None, body)
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "migrations"))
    script_directory = ScriptDirectory.from_config(config)
    scripts = [script_directory.get_revision(ADDED)]
    outcome = check_revisions(config, script_directory, scripts,
                              Database(None, dialect, major_version))
    [rehearsal] = rehearse(config, script_directory, scripts, dialect.name)
    statements = [statement.text.rstrip(";") for statement in rehearsal.statements
                  if statement.line is not None]  # not the transaction's BEGIN, COMMIT
    return outcome.findings, statements


def verdicts(findings):
    return sorted((finding.rule, finding.level) for finding in findings
                  if finding.level != NOTE)


@pytest.fixture
def server(database_url):
    """An autocommit connection to the test's database."""
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


# --- MariaDB: in place or a copy --------------------------------------------------

BIG_ENUM = ["v{}".format(number) for number in range(255)]
MARIADB_TABLE = (
    "CREATE TABLE teams (id INT PRIMARY KEY)",
    "INSERT INTO teams VALUES (1)",
    "CREATE TABLE users ("
    " id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, nick VARCHAR(40) NULL,"
    " wide VARCHAR(128) NULL, latin VARCHAR(100) CHARACTER SET latin1 NULL,"
    " latin_wide VARCHAR(200) CHARACTER SET latin1 NULL,"
    " three VARCHAR(60) CHARACTER SET utf8mb3 NULL,"
    " role ENUM('super_user', 'admin', 'user') NOT NULL DEFAULT 'user',"
    " big ENUM({}) NULL, n INT NULL, team_id INT NULL)".format(
        ", ".join("'{}'".format(value) for value in BIG_ENUM)),
    "INSERT INTO users (id, name, nick, wide, latin, latin_wide, three, big, n, team_id)"
    " VALUES (1, 'ann', 'a', 'w', 'l', 'l', 't', 'v1', 1, 1),"
    " (2, 'bob', 'b', 'x', 'm', 'm', 'u', 'v2', 2, 1)",
)
ROLE = 'sa.Enum("super_user", "admin", "user", name="user_role")'
# case: (the revision's upgrade(), db lint's findings as (rule, level)); the
# server must refuse ALGORITHM=INPLACE exactly where a finding says the
# statement copies the table.
MARIADB_CASES = {
    "VARCHAR(40) to VARCHAR(63) in utf8mb4 (252 bytes)": (
        'op.alter_column("users", "name", existing_type=mysql_types.VARCHAR(length=40), '
        'type_=sa.String(63), existing_nullable=False)', []),
    "VARCHAR(40) to VARCHAR(64) in utf8mb4 (256 bytes: 2-byte length prefix)": (
        'op.alter_column("users", "name", existing_type=mysql_types.VARCHAR(length=40), '
        'type_=sa.String(64), existing_nullable=False)', [("change-column-type", "error")]),
    "VARCHAR(128) to VARCHAR(200) (2-byte prefix before and after)": (
        'op.alter_column("users", "wide", existing_type=sa.VARCHAR(128), '
        'type_=sa.String(200))', []),
    "VARCHAR(128) to VARCHAR(64)": (
        'op.alter_column("users", "wide", existing_type=sa.VARCHAR(128), '
        'type_=sa.String(64))', [("change-column-type", "error")]),
    "VARCHAR(200) to VARCHAR(255) in latin1": (
        'op.alter_column("users", "latin_wide", existing_type=mysql_types.VARCHAR(200, '
        'charset="latin1"), type_=mysql_types.VARCHAR(255, charset="latin1"))', []),
    "VARCHAR(200) to VARCHAR(256) in latin1": (
        'op.alter_column("users", "latin_wide", existing_type=mysql_types.VARCHAR(200, '
        'charset="latin1"), type_=mysql_types.VARCHAR(256, charset="latin1"))',
        [("change-column-type", "error")]),
    "VARCHAR(100) to VARCHAR(256) in latin1 (from at most 127 bytes, MariaDB 10.4+)": (
        'op.alter_column("users", "latin", existing_type=mysql_types.VARCHAR(100, '
        'charset="latin1"), type_=mysql_types.VARCHAR(256, charset="latin1"))', []),
    "VARCHAR(60) to VARCHAR(85) in utf8mb3, named by its collation": (
        'op.alter_column("users", "three", existing_type=sa.String(60, '
        'collation="utf8mb3_general_ci"), type_=sa.String(85, collation="utf8mb3_general_ci"))',
        []),
    "VARCHAR(60) to VARCHAR(86) in utf8mb3, named by its collation": (
        'op.alter_column("users", "three", existing_type=sa.String(60, '
        'collation="utf8mb3_general_ci"), type_=sa.String(86, collation="utf8mb3_general_ci"))',
        [("change-column-type", "error")]),
    "utf8mb3 to the table's utf8mb4 (MariaDB 10.4+)": (
        'op.alter_column("users", "three", existing_type=mysql_types.VARCHAR(60, '
        'charset="utf8mb3"), type_=sa.String(60))', []),
    "latin1 to the table's utf8mb4": (
        'op.alter_column("users", "latin", existing_type=mysql_types.VARCHAR(100, '
        'charset="latin1"), type_=sa.String(100))', [("change-column-type", "error")]),
    "VARCHAR to TEXT": (
        'op.alter_column("users", "wide", existing_type=sa.VARCHAR(128), type_=sa.Text())',
        [("change-column-type", "error")]),
    "INT to BIGINT": (
        'op.alter_column("users", "n", existing_type=sa.Integer(), type_=sa.BigInteger())',
        [("change-column-type", "error")]),
    "an ENUM value appended": (
        'op.alter_column("users", "role", existing_type={}, type_=sa.Enum("super_user", '
        '"admin", "user", "guest", name="user_role"), existing_nullable=False, '
        'existing_server_default="user")'.format(ROLE), []),
    "an ENUM value inserted": (
        'op.alter_column("users", "role", existing_type={}, type_=sa.Enum("super_user", '
        '"guest", "admin", "user", name="user_role"), existing_nullable=False, '
        'existing_server_default="user")'.format(ROLE), [("change-column-type", "error")]),
    "ENUM values reordered": (
        'op.alter_column("users", "role", existing_type={}, type_=sa.Enum("admin", '
        '"super_user", "user", name="user_role"), existing_nullable=False, '
        'existing_server_default="user")'.format(ROLE), [("change-column-type", "error")]),
    "an ENUM value removed": (
        'op.alter_column("users", "role", existing_type={}, type_=sa.Enum("admin", "user", '
        'name="user_role"), existing_nullable=False, existing_server_default="user")'.format(
            ROLE), [("change-column-type", "error"), ("enum-value-removed", "error")]),
    "an ENUM's 256th value": (
        'op.alter_column("users", "big", existing_type=sa.Enum(*BIG, name="big"), '
        'type_=sa.Enum(*BIG, "v255", name="big"))', [("change-column-type", "error")]),
    "NOT NULL with no backfill": (
        'op.alter_column("users", "nick", existing_type=sa.VARCHAR(40), nullable=False)',
        [("set-not-null", "warning")]),
    "NOT NULL after a backfill": (
        'op.execute("UPDATE users SET nick = name WHERE nick IS NULL AND id < 1000")\n'
        'op.alter_column("users", "nick", existing_type=sa.VARCHAR(40), nullable=False)', []),
    "a foreign key on an existing table": (
        'op.create_foreign_key("fk_users_team_id", "users", "teams", ["team_id"], ["id"])',
        [("add-foreign-key", "error")]),
    "a CHECK on an existing table": (
        'op.create_check_constraint("ck_users_n", "users", "n > 0")',
        [("add-check", "error")]),
    "an index": ('op.create_index("ix_users_name", "users", ["name"])', []),
    "a unique index": (
        'op.create_index("ux_users_nick", "users", ["nick"], unique=True)',
        [("add-unique", "warning")]),
    "a column with a constant default": (
        'op.add_column("users", sa.Column("score", sa.Integer(), nullable=False, '
        'server_default="0"))', []),
}


def run_in_place(server, statement):
    """Run `statement` asking MariaDB for ALGORITHM=INPLACE, LOCK=NONE;
    True when it refuses (it would copy the table or block writes)."""
    if statement.startswith("ALTER TABLE"):
        statement += ", ALGORITHM=INPLACE, LOCK=NONE"
    elif statement.startswith("CREATE"):
        statement += " ALGORITHM=INPLACE LOCK=NONE"
    try:
        server.exec_driver_sql(statement)
    except sa.exc.DBAPIError as error:
        assert error.orig.args[0] in NOT_IN_PLACE, error
        return True
    return False


@pytest.mark.backends("mysql")
@pytest.mark.parametrize("case", sorted(MARIADB_CASES))
def test_mariadb_copies_the_table_exactly_where_lint_says_so(tmp_path, server, case,
                                                            monkeypatch):
    body, expected = MARIADB_CASES[case]
    if not server.dialect.is_mariadb:
        pytest.skip("these verdicts are MariaDB 10.4+'s; TEST_MYSQL_URL names a MySQL")
    # Without pt-online-schema-change, a copy blocks the writes: an error.
    # (With it, a warning: test_a_type_change_mariadb_copies_is_a_warning...)
    monkeypatch.setenv("PT_ONLINE_SCHEMA_CHANGE", str(tmp_path / "no-such-tool"))
    findings, statements = lint_here(
        tmp_path, "from sqlalchemy.dialects import mysql as mysql_types\n"
                  "BIG = {!r}\n{}".format(BIG_ENUM, body),
        server.dialect, server.dialect.server_version_info[0])
    assert verdicts(findings) == expected
    copies = any(mysql.COPIES in finding.problem for finding in findings)
    for statement in MARIADB_TABLE:
        server.exec_driver_sql(statement)
    refused = [run_in_place(server, statement) for statement in statements]
    assert any(refused) == copies, list(zip(statements, refused))


@pytest.mark.backends("mysql")
def test_mariadb_adds_a_foreign_key_in_place_with_foreign_key_checks_off(server):
    for statement in MARIADB_TABLE:
        server.exec_driver_sql(statement)
    server.exec_driver_sql("SET foreign_key_checks = 0")
    assert not run_in_place(server, "ALTER TABLE users ADD CONSTRAINT fk_users_team_id "
                                    "FOREIGN KEY (team_id) REFERENCES teams (id)")


@pytest.mark.backends("mysql")
def test_mariadb_refuses_not_null_in_place_over_a_null(server):
    for statement in MARIADB_TABLE:
        server.exec_driver_sql(statement)
    server.exec_driver_sql("UPDATE users SET nick = NULL WHERE id = 1")
    with pytest.raises(sa.exc.DBAPIError, match="Data truncated for column 'nick'"):
        server.exec_driver_sql("ALTER TABLE users MODIFY nick VARCHAR(40) NOT NULL, "
                               "ALGORITHM=INPLACE, LOCK=NONE")


LATIN1_100 = mysql_dialect.VARCHAR(100, charset="latin1")
LATIN1_256 = mysql_dialect.VARCHAR(256, charset="latin1")
UTF8MB3_20 = mysql_dialect.VARCHAR(20, charset="utf8mb3")


@pytest.mark.parametrize("kind, version, old, new, in_place", [
    ("MariaDB", (10, 1, 48), sa.String(40), sa.String(60), False),
    ("MariaDB", (10, 2, 2), sa.String(40), sa.String(60), True),
    ("MySQL", (5, 6, 51), sa.String(40), sa.String(60), False),
    ("MySQL", (5, 7, 8), sa.String(40), sa.String(60), True),
    ("MySQL", None, sa.String(40), sa.String(60), True),
    ("MySQL", (8, 0, 36), LATIN1_100, LATIN1_256, False),
    ("MariaDB", (10, 3, 39), LATIN1_100, LATIN1_256, False),
    ("MariaDB", (10, 4, 3), LATIN1_100, LATIN1_256, True),
    ("MySQL", (8, 0, 36), UTF8MB3_20, sa.String(20), False),
    ("MariaDB", (10, 3, 39), UTF8MB3_20, sa.String(20), False),
    ("MariaDB", (10, 11, 6), UTF8MB3_20, sa.String(20), True),
])
def test_what_is_in_place_depends_on_the_server_and_its_version(
        kind, version, old, new, in_place):
    dialect = mysql_dialect.pymysql.dialect()
    dialect.server_version_info = version
    dialect.is_mariadb = kind == "MariaDB"
    assert (mysql.type_change_copies(old, new, dialect) is None) == in_place


def test_a_server_before_mysql_5_7_innodb_is_named_as_copying_every_type_change():
    dialect = mysql_dialect.pymysql.dialect()
    dialect.server_version_info = (10, 1, 48)
    dialect.is_mariadb = True
    assert mysql.type_change_copies(sa.String(40), sa.String(60), dialect) == \
        "MariaDB 10.1.48 changes no column type in place"


# --- PostgreSQL: rewrites and scans -------------------------------------------------

POSTGRESQL_TABLE = (
    "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(128) NOT NULL, n INT,"
    " amount NUMERIC(10, 2), code CHAR(10), note TEXT)",
    "CREATE UNIQUE INDEX ux_users_name ON users (name)",
    "INSERT INTO users VALUES (1, 'ann', 1, 1.5, 'a', 'x'), (2, 'bob', 2, 2.5, 'b', 'y')",
)
# case: (the revision's upgrade(), whether PostgreSQL rewrites the table:
# db lint flags exactly those, and overrules squawk on the others)
POSTGRESQL_TYPE_CASES = {
    "VARCHAR(128) to VARCHAR(200)": (
        'op.alter_column("users", "name", existing_type=sa.VARCHAR(128), '
        'type_=sa.String(200))', False),
    "VARCHAR(128) to TEXT": (
        'op.alter_column("users", "name", existing_type=sa.VARCHAR(128), type_=sa.Text())',
        False),
    "NUMERIC(10, 2) to NUMERIC(12, 2)": (
        'op.alter_column("users", "amount", existing_type=sa.NUMERIC(10, 2), '
        'type_=sa.Numeric(12, 2))', False),
    "VARCHAR(128) to VARCHAR(64)": (
        'op.alter_column("users", "name", existing_type=sa.VARCHAR(128), '
        'type_=sa.String(64))', True),
    "INT to BIGINT": (
        'op.alter_column("users", "n", existing_type=sa.Integer(), type_=sa.BigInteger())',
        True),
    "CHAR(10) to CHAR(20)": (
        'op.alter_column("users", "code", existing_type=sa.CHAR(10), type_=sa.CHAR(20))', True),
    "TEXT to VARCHAR(300)": (
        'op.alter_column("users", "note", existing_type=sa.Text(), type_=sa.String(300))',
        True),
}
FILES = "SELECT pg_relation_filenode('users'), pg_relation_filenode('ux_users_name')"


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("squawk", ["squawk", "built-in"])
@pytest.mark.parametrize("case", sorted(POSTGRESQL_TYPE_CASES))
def test_postgresql_rewrites_the_table_exactly_where_lint_says_so(
        tmp_path, server, monkeypatch, case, squawk):
    body, rewrites = POSTGRESQL_TYPE_CASES[case]
    if squawk == "built-in":
        monkeypatch.setenv("SQUAWK", str(tmp_path / "no-squawk"))
    findings, statements = lint_here(tmp_path, body, server.dialect,
                                     server.dialect.server_version_info[0])
    rule = "changing-column-type" if squawk == "squawk" else "change-column-type"
    assert verdicts(findings) == ([(rule, "error")] if rewrites else [])
    overruled = [finding.rule for finding in findings if finding.level == NOTE]
    assert overruled == (["changing-column-type"] if squawk == "squawk" and not rewrites
                         else [])
    for statement in POSTGRESQL_TABLE:
        server.exec_driver_sql(statement)
    before = server.exec_driver_sql(FILES).one()
    for statement in statements:
        server.exec_driver_sql(statement)
    after = server.exec_driver_sql(FILES).one()
    assert (after != before) == rewrites  # without a rewrite, name's index stays too


@pytest.mark.backends("postgresql")
def test_postgresql_reads_every_row_for_set_not_null_unless_a_valid_check_proves_it(server):
    # psycopg2's own cursor: what the server says at DEBUG1 arrives in its
    # connection's notices.
    connection = server.connection.dbapi_connection
    cursor = connection.cursor()

    def run(statement):
        """Run `statement`; return what the server said meanwhile."""
        del connection.notices[:]
        cursor.execute(statement)
        return "".join(connection.notices)

    def locked_by(statement):
        """What `statement` says, and the locks on users it holds until
        its transaction ends."""
        run("BEGIN")
        said = run(statement)
        run("SELECT mode FROM pg_locks WHERE relation = 'users'::regclass "
            "AND pid = pg_backend_pid()")
        modes = {mode for mode, in cursor.fetchall()}
        run("COMMIT")
        return said, modes

    run("CREATE TABLE users (id INT PRIMARY KEY, nickname VARCHAR(40))")
    run("INSERT INTO users VALUES (1, 'ann'), (2, 'bob')")
    run("SET client_min_messages = debug1")
    said, modes = locked_by("ALTER TABLE users ALTER COLUMN nickname SET NOT NULL")
    assert 'verifying table "users"' in said and "AccessExclusiveLock" in modes
    run("ALTER TABLE users ALTER COLUMN nickname DROP NOT NULL")
    run("ALTER TABLE users ADD CONSTRAINT ck_users_nickname CHECK (nickname IS NOT NULL) "
        "NOT VALID")
    said, modes = locked_by("ALTER TABLE users VALIDATE CONSTRAINT ck_users_nickname")
    assert 'verifying table "users"' in said
    assert modes == {"ShareUpdateExclusiveLock"}  # reads and writes go on
    said = run("ALTER TABLE users ALTER COLUMN nickname SET NOT NULL")
    assert "verifying table" not in said
    assert 'existing constraints on column "users.nickname" are sufficient' in said


@pytest.mark.parametrize("squawk", ["squawk", "built-in"])
def test_before_postgresql_12_set_not_null_reads_the_rows_even_after_a_check(
        tmp_path, monkeypatch, squawk):
    if squawk == "built-in":
        monkeypatch.setenv("SQUAWK", str(tmp_path / "no-squawk"))
    dialect = postgresql_dialect.psycopg2.dialect()
    dialect.server_version_info = (11, 22)
    findings, _ = lint_here(
        tmp_path, 'op.alter_column("users", "nickname", existing_type=sa.VARCHAR(40), '
                  'nullable=False)', dialect, 11)
    [finding] = findings
    assert finding.level == "error"
    assert "this server is PostgreSQL 11, where SET NOT NULL reads every row even then" \
        in finding.safer


ONLINE_REVISION = '''
op.add_column("users", sa.Column("nickname", sa.String(64)))
op.create_index_online("ix_users_name", "users", ["name"])
op.create_unique_online("uq_users_nickname", "users", ["nickname"])
op.create_foreign_key_online("fk_users_team_id_teams", "users", "teams", ["team_id"], ["id"])
op.backfill("users", {"nickname": "anon"}, where="nickname IS NULL")
op.set_not_null_online("users", "nickname", existing_type=sa.String(64))
op.set_not_null_online("users", "email", existing_type=sa.String(255))
'''


@pytest.mark.parametrize("dialect", [postgresql_dialect.psycopg2.dialect(),
                                     mysql_dialect.pymysql.dialect()],
                         ids=["postgresql", "mysql"])
@pytest.mark.parametrize("squawk", ["squawk", "built-in"])
def test_the_online_operations_are_clean_but_for_a_not_null_without_its_backfill(
        tmp_path, monkeypatch, dialect, squawk):
    if squawk == "built-in":
        monkeypatch.setenv("SQUAWK", str(tmp_path / "no-squawk"))
    dialect.server_version_info = (15, 2) if dialect.name == "postgresql" else (10, 11, 9)
    findings, _ = lint_here(tmp_path, ONLINE_REVISION, dialect, dialect.server_version_info[0])
    assert verdicts(findings) == [("set-not-null", "warning")]
    [finding] = [finding for finding in findings if finding.level != NOTE]
    assert "users.email" in finding.problem
    assert "op.backfill('users', {'email': value}" in finding.safer
    # squawk reads the CHECK that op.set_not_null_online drops: overruled, said why.
    notes = [finding for finding in findings if finding.level == NOTE]
    assert all("op.set_not_null_online is an online operation" in note.as_line()
               for note in notes)


def test_before_postgresql_12_the_online_not_null_is_an_error_too(tmp_path):
    dialect = postgresql_dialect.psycopg2.dialect()
    dialect.server_version_info = (11, 22)
    findings, _ = lint_here(tmp_path, 'op.set_not_null_online("users", "nickname")',
                            dialect, 11)
    assert verdicts(findings) == [("set-not-null", "error")]
    [finding] = [finding for finding in findings if finding.level != NOTE]
    assert "PostgreSQL 11 reads every row for SET NOT NULL" in finding.problem


def test_an_online_check_still_copies_the_table_on_mariadb(tmp_path):
    findings, _ = lint_here(tmp_path, 'op.create_check_online("ck_users_name", "users", '
                                      '"length(name) > 0")', mysql_dialect.pymysql.dialect())
    assert verdicts(findings) == [("add-check", "error")]
    assert "copies the table" in findings[0].problem


def test_an_update_in_one_statement_is_told_about_op_backfill(tmp_path):
    findings, _ = lint_here(tmp_path, 'op.execute("UPDATE users SET name = lower(name)")',
                            mysql_dialect.pymysql.dialect())
    assert verdicts(findings) == [("update-in-one-statement", "warning")]
    assert findings[0].safer.startswith("op.backfill('users', {column: value}, where=...)")


def test_a_type_change_mariadb_copies_is_a_warning_with_the_copying_tool(tmp_path,
                                                                         monkeypatch):
    """db upgrade copies such a table with pt-online-schema-change while the
    app writes (online/table_copy.py); without the tool it is an error."""
    body = 'op.alter_column("users", "id", existing_type=sa.Integer(), type_=sa.BigInteger())'
    dialect = mysql_dialect.pymysql.dialect()
    findings, _ = lint_here(tmp_path / "with", body, dialect)
    assert verdicts(findings) == [("change-column-type", "warning")]
    assert "copies a table of 10000 rows or more with pt-online-schema-change" \
        in findings[0].problem
    assert "innodb_autoinc_lock_mode" in findings[0].safer

    monkeypatch.setenv("PT_ONLINE_SCHEMA_CHANGE", str(tmp_path / "no-such-tool"))
    findings, _ = lint_here(tmp_path / "without", body, dialect)
    assert verdicts(findings) == [("change-column-type", "error")]
    assert "pt-online-schema-change is not installed here" in findings[0].safer
