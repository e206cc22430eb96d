"""`db lint`: each rule flags the revision that breaks it, at the right line,
and not its safer variant, on the backends it applies to; suppressions;
exit codes and --json; squawk's findings mapped to revisions; db migrate
linting what it wrote; and the table lock timeout of db upgrade."""
import json
import shutil
import threading
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.migrating.lint import suppressions
from tests.support import assert_ok, committed_revisions, error_lines

HEAD = committed_revisions()[-1][0]
ADDED = "b2b2b2b2b2b2"

# rule: (upgrade that breaks it, the safer variant or None, the rule each
# backend reports (PostgreSQL: squawk's name), the level)
ROLE = 'sa.Enum("super_user", "admin", "user", name="user_role")'
CASES = {
    "drop-column": (
        'op.drop_column("users", "name")', None,
        {"postgresql": "ban-drop-column", "mysql": "drop-column", "sqlite": "drop-column"}),
    "drop-table": (
        'op.drop_table("users")', None,
        {"postgresql": "ban-drop-table", "mysql": "drop-table", "sqlite": "drop-table"}),
    "rename-column": (
        'op.alter_column("users", "name", new_column_name="full_name", '
        'existing_type=sa.String(128))',
        'op.add_column("users", sa.Column("full_name", sa.String(128)))',
        {"postgresql": "renaming-column", "mysql": "rename-column", "sqlite": "rename-column"}),
    "rename-table": (
        'op.rename_table("users", "people")',
        'op.create_table("people", sa.Column("id", sa.Integer, primary_key=True))',
        {"postgresql": "renaming-table", "mysql": "rename-table", "sqlite": "rename-table"}),
    "change-column-type": (
        'op.alter_column("users", "name", existing_type=sa.String(128), type_=sa.String(64))',
        'op.add_column("users", sa.Column("short_name", sa.String(64)))',
        {"postgresql": "changing-column-type", "mysql": "change-column-type",
         "sqlite": "change-column-type"}),
    "set-not-null": (
        'op.add_column("users", sa.Column("nickname", sa.String(40)))\n'
        'op.alter_column("users", "nickname", existing_type=sa.String(40), nullable=False)',
        'op.add_column("users", sa.Column("nickname", sa.String(40)))\n'
        'op.execute("UPDATE users SET nickname = name WHERE id >= 0 AND id < 50000")\n'
        'op.alter_column("users", "nickname", existing_type=sa.String(40), nullable=False)',
        {"postgresql": "adding-not-nullable-field", "mysql": "set-not-null",
         "sqlite": "set-not-null"}),
    "add-required-column": (
        'op.add_column("users", sa.Column("nickname", sa.String(40), nullable=False))',
        'op.add_column("users", sa.Column("nickname", sa.String(40), nullable=False, '
        'server_default="none"))',
        {"postgresql": "adding-required-field", "mysql": "add-required-column",
         "sqlite": "add-required-column"}),
    "add-index": (
        'op.create_index("ix_users_name", "users", ["name"])',
        'with op.get_context().autocommit_block():\n'
        '    op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)',
        {"postgresql": "require-concurrent-index-creation"}),
    "add-unique": (
        'op.create_unique_constraint("uq_users_name", "users", ["name"])',
        'op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("name", sa.String(40)))\n'
        'op.create_unique_constraint("uq_teams_name", "teams", ["name"])',
        {"postgresql": "disallowed-unique-constraint", "mysql": "add-unique"}),
    "add-foreign-key": (
        'op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))\n'
        'op.add_column("users", sa.Column("team_id", sa.Integer))\n'
        'op.create_foreign_key("fk_users_team_id", "users", "teams", ["team_id"], ["id"])',
        None,
        {"postgresql": "adding-foreign-key-constraint", "mysql": "add-foreign-key"}),
    "add-check": (
        'op.create_check_constraint("ck_users_name", "users", "length(name) > 0")',
        {"postgresql": 'op.create_check_constraint("ck_users_name", "users", '
                       '"length(name) > 0", postgresql_not_valid=True)',
         "mysql": 'op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))\n'
                  'op.create_check_constraint("ck_teams_id", "teams", "id > 0")'},
        {"postgresql": "constraint-missing-not-valid", "mysql": "add-check"}),
    "update-in-one-statement": (
        'op.execute("UPDATE users SET name = lower(name)")',
        'op.execute("UPDATE users SET name = lower(name) WHERE id >= 0 AND id < 50000")',
        {"postgresql": "update-in-one-statement", "mysql": "update-in-one-statement",
         "sqlite": "update-in-one-statement"}),
}
ENUM_CASES = {
    "postgresql": (
        'op.sync_enum_values(enum_schema="public", enum_name="user_role", '
        'new_values=["admin", "user"], affected_columns=[])',
        'op.sync_enum_values(enum_schema="public", enum_name="user_role", '
        'new_values=["super_user", "admin", "user", "guest"], affected_columns=[])',
        'op.sync_enum_values(enum_schema="public", enum_name="user_role", '
        'new_values=["super_user", "admin", "user"], affected_columns=[])'),
    "mysql": (
        'op.alter_column("users", "role", existing_type={}, '
        'type_=sa.Enum("admin", "user", name="user_role"))'.format(ROLE),
        'op.alter_column("users", "role", existing_type={}, '
        'type_=sa.Enum("super_user", "admin", "user", "guest", name="user_role"))'.format(ROLE),
        "pass"),
}
# rule: the backends where the revision that breaks it draws a warning, not
# an error (MariaDB makes a column NOT NULL in place: it can only fail).
WARNINGS = {"update-in-one-statement": ("postgresql", "mysql", "sqlite"),
            "add-unique": ("mysql",), "set-not-null": ("mysql",)}


def lint(project, *args, env=None):
    """`db lint --json *args`: (exit code, the JSON document)."""
    result = project.manage("db", "lint", "--json", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def line_of(project, revision, text):
    """The line of `revision`'s file where `text` is."""
    [path] = (project.root / "migrations" / "versions").glob("*{}*.py".format(revision))
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError("{!r} is not in {}".format(text, path))


def rules_of(document):
    return sorted(finding["rule"] for finding in document["findings"])


def backend_name(project):
    return sa.engine.make_url(project.database_url).get_backend_name()


@pytest.fixture
def at_head(project):
    assert_ok(project.manage("db", "upgrade"))
    return project


# --- each rule, on its backends -----------------------------------------------

@pytest.mark.parametrize("rule", sorted(CASES))
def test_a_revision_that_breaks_a_rule_is_flagged_at_its_line(at_head, rule):
    breaking, _, expected = CASES[rule]
    at_head.add_revision(ADDED, HEAD, breaking)
    code, document = lint(at_head)
    reported = expected.get(backend_name(at_head))
    flagged = [finding for finding in document["findings"] if finding["rule"] == reported]
    if reported is None:  # the operation is harmless on this backend
        assert document["findings"] == [] and code == 0, document
        return
    assert flagged, document
    finding = flagged[0]
    last_line = breaking.splitlines()[-1].strip()
    assert finding["line"] == line_of(at_head, ADDED, last_line)
    assert finding["revision"] == ADDED and finding["file"].endswith("{}_test.py".format(ADDED))
    assert finding["problem"] and finding["safer"]
    level = "warning" if backend_name(at_head) in WARNINGS.get(rule, ()) else "error"
    assert finding["level"] == level
    assert code == (1 if level == "error" else 0)
    assert document["revisions_checked"] == 1


@pytest.mark.parametrize("rule", sorted(rule for rule, case in CASES.items() if case[1]))
def test_the_safer_variant_of_a_rule_is_not_flagged(at_head, rule):
    _, safer, expected = CASES[rule]
    if isinstance(safer, dict):  # a safer way per backend
        safer = safer.get(backend_name(at_head), safer["postgresql"])
    at_head.add_revision(ADDED, HEAD, safer)
    code, document = lint(at_head)
    if rule == "set-not-null" and backend_name(at_head) == "postgresql":
        # With the backfill, squawk still flags the scan under the lock; the
        # safer way there takes a CHECK validated in a revision of its own.
        assert rules_of(document) == ["adding-not-nullable-field"]
        return
    assert (code, document["findings"]) == (0, [])


@pytest.mark.backends("postgresql", "mysql")
def test_an_enum_value_removed_is_flagged_and_one_added_is_not(at_head):
    removing, adding, back = ENUM_CASES[backend_name(at_head)]
    at_head.add_revision(ADDED, HEAD, removing, downgrade=back.replace(
        '"admin", "user"]', '"super_user", "admin", "user"]'))
    code, document = lint(at_head)
    [finding] = [f for f in document["findings"] if f["rule"] == "enum-value-removed"]
    assert "'super_user'" in finding["problem"] and finding["level"] == "error"
    assert finding["line"] == line_of(at_head, ADDED, removing) and code == 1
    at_head.add_revision(ADDED, HEAD, adding, downgrade=back)
    code, document = lint(at_head)
    assert "enum-value-removed" not in rules_of(document)


# --- what blocks the running app, per dialect (the measurements) ------
# Each revision as db migrate writes it; the verdicts agree with what was
# measured on a table of 10^6 rows with the app writing to it
# (tests/test_lint_servers.py checks each claim on the servers).

EARLIER = "a1a1a1a1a1a1"
# change: (a revision applied before it, or None; the pending revision, where
# {VARCHAR} is the type db migrate reflects on each backend; {backend: the
# findings as (rule, level)})
WHAT_BLOCKS = {
    "an index on an existing column": (
        None,
        "with op.batch_alter_table('users', schema=None) as batch_op:\n"
        "    batch_op.create_index(batch_op.f('ix_users_name'), ['name'], unique=False)",
        {"postgresql": [("require-concurrent-index-creation", "error")],
         "mysql": [], "sqlite": []}),
    "a new unique column": (
        None,
        "with op.batch_alter_table('users', schema=None) as batch_op:\n"
        "    batch_op.add_column(sa.Column('nickname', sa.String(length=40), nullable=True))\n"
        "    batch_op.create_unique_constraint(batch_op.f('uq_users_nickname'), ['nickname'])",
        {"postgresql": [("constraint-missing-not-valid", "error"),
                        ("disallowed-unique-constraint", "error")],
         "mysql": [("add-unique", "warning")], "sqlite": []}),
    "an existing column made NOT NULL": (
        "op.add_column('users', sa.Column('nickname', sa.String(length=40), nullable=True))",
        "with op.batch_alter_table('users', schema=None) as batch_op:\n"
        "    batch_op.alter_column('nickname', existing_type={VARCHAR}(length=40), "
        "nullable=False)",
        {"postgresql": [("adding-not-nullable-field", "error")],
         "mysql": [("set-not-null", "warning")], "sqlite": [("set-not-null", "error")]}),
    "a foreign key on an existing column": (
        "op.create_table('teams', sa.Column('id', sa.Integer(), nullable=False), "
        "sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')))\n"
        "op.add_column('users', sa.Column('team_id', sa.Integer(), nullable=True))",
        "with op.batch_alter_table('users', schema=None) as batch_op:\n"
        "    batch_op.create_foreign_key(batch_op.f('fk_users_team_id_teams'), 'teams', "
        "['team_id'], ['id'])",
        {"postgresql": [("adding-foreign-key-constraint", "error"),
                        ("constraint-missing-not-valid", "error")],
         "mysql": [("add-foreign-key", "error")], "sqlite": []}),
    "a longer VARCHAR": (
        None,
        "with op.batch_alter_table('users', schema=None) as batch_op:\n"
        "    batch_op.alter_column('name', existing_type={VARCHAR}(length=128), "
        "type_=sa.String(length=200), existing_nullable=False)",
        {"postgresql": [], "mysql": [], "sqlite": []}),
    "a new table with a foreign key to users, a column with a constant default": (
        None,
        "op.create_table('posts', sa.Column('id', sa.Integer(), nullable=False), "
        "sa.Column('user_id', sa.Integer(), nullable=True), "
        "sa.ForeignKeyConstraint(['user_id'], ['users.id'], "
        "name=op.f('fk_posts_user_id_users')), sa.PrimaryKeyConstraint('id', "
        "name=op.f('pk_posts')))\n"
        "with op.batch_alter_table('posts', schema=None) as batch_op:\n"
        "    batch_op.create_index(batch_op.f('ix_posts_user_id'), ['user_id'], unique=False)\n"
        "with op.batch_alter_table('users', schema=None) as batch_op:\n"
        "    batch_op.add_column(sa.Column('score', sa.Integer(), server_default='0', "
        "nullable=False))",
        {"postgresql": [], "mysql": [], "sqlite": []}),
}
# How db migrate writes a VARCHAR it reflects.
REFLECTED_VARCHAR = {"mysql": "mysql.VARCHAR", "postgresql": "sa.VARCHAR", "sqlite": "sa.VARCHAR"}


def verdicts(document):
    return sorted((finding["rule"], finding["level"]) for finding in document["findings"])


@pytest.mark.parametrize("change", sorted(WHAT_BLOCKS))
def test_the_verdicts_agree_with_what_blocks(at_head, change):
    earlier, pending, expected = WHAT_BLOCKS[change]
    backend = backend_name(at_head)
    down_revision = HEAD
    if earlier:
        at_head.add_revision(EARLIER, HEAD, earlier)
        assert_ok(at_head.manage("db", "upgrade"))
        down_revision = EARLIER
    at_head.add_revision(ADDED, down_revision, "from sqlalchemy.dialects import mysql\n"
                         + pending.format(VARCHAR=REFLECTED_VARCHAR[backend]))
    code, document = lint(at_head)
    assert verdicts(document) == expected[backend], document
    assert code == (1 if any(level == "error" for _, level in expected[backend]) else 0)


@pytest.mark.backends("postgresql")
def test_a_type_change_in_the_catalog_alone_overrules_squawk_and_says_why(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.alter_column("users", "name", '
                                      'existing_type=sa.VARCHAR(128), type_=sa.String(200))')
    where = "migrations/versions/{}_test.py:{}".format(
        ADDED, line_of(at_head, ADDED, "op.alter_column"))
    result = assert_ok(at_head.manage("db", "lint"))
    [note, summary] = result.stdout.strip().splitlines()
    assert note == (
        "{} note: squawk's changing-column-type at {} is overruled: users.name VARCHAR(128) "
        "-> VARCHAR(200) changes only the catalog on PostgreSQL: the table and its indexes "
        "are not rewritten, and the ACCESS EXCLUSIVE lock lasts for the catalog change "
        "alone.".format(ADDED, where))
    assert summary.startswith("db lint: 0 error(s), 0 warning(s) in 1 revision(s), with squawk")
    code, document = lint(at_head)
    assert (code, document["findings"], document["errors"]) == (0, [], 0)
    [overruled] = document["overruled"]
    assert set(overruled) == {"revision", "database", "file", "line", "rule", "source",
                              "reason"}
    assert (overruled["rule"], overruled["source"]) == ("changing-column-type", "squawk")
    assert overruled["line"] == line_of(at_head, ADDED, "op.alter_column")
    assert "VARCHAR(128) -> VARCHAR(200) changes only the catalog" in overruled["reason"]


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("squawk", ["squawk", "built-in"])
@pytest.mark.parametrize("backfill", [False, True])
def test_set_not_null_on_postgresql_is_an_error_with_or_without_a_backfill(
        at_head, squawk, backfill):
    at_head.add_revision(ADDED, HEAD, "\n".join(filter(None, [
        'op.add_column("users", sa.Column("nickname", sa.String(40)))',
        backfill and 'op.execute("UPDATE users SET nickname = name WHERE id >= 0 AND id < 5")',
        'op.alter_column("users", "nickname", existing_type=sa.String(40), nullable=False)'])))
    env = None if squawk == "squawk" else {"SQUAWK": str(at_head.root / "no-squawk")}
    code, document = lint(at_head, env=env)
    [finding] = document["findings"]
    assert finding["rule"] == ("adding-not-nullable-field" if squawk == "squawk"
                               else "set-not-null")
    assert finding["level"] == "error" and code == 1
    assert 'op.set_not_null_online(table, "' in finding["safer"]
    assert "VALIDATE CONSTRAINT" in finding["safer"] and "the CHECK dropped" in finding["safer"]


# --- suppressions -------------------------------------------------------------

def test_a_suppression_with_a_reason_silences_the_rule_by_either_name(at_head):
    at_head.add_revision(ADDED, HEAD, '# lint: allow drop-column — unused since 2024-03\n'
                                      'op.drop_column("users", "name")')
    code, document = lint(at_head)
    assert (code, document["findings"]) == (0, [])
    at_head.add_revision(ADDED, HEAD, '# lint: allow ban-drop-column -- unused since 2024-03\n'
                                      'op.drop_column("users", "name")')
    code, document = lint(at_head)
    assert (code, document["findings"]) == (0, [])


def test_a_suppression_without_a_reason_is_an_error_and_silences_nothing(at_head):
    at_head.add_revision(ADDED, HEAD, '# lint: allow drop-column\n'
                                      'op.drop_column("users", "name")')
    code, document = lint(at_head)
    assert code == 1
    assert "suppression-without-reason" in rules_of(document)
    assert set(rules_of(document)) & {"drop-column", "ban-drop-column"}
    [mark] = [f for f in document["findings"] if f["rule"] == "suppression-without-reason"]
    assert mark["line"] == line_of(at_head, ADDED, "# lint: allow drop-column")


@pytest.mark.backends("sqlite")
def test_a_suppression_of_an_unknown_rule_is_a_warning(at_head):
    at_head.add_revision(ADDED, HEAD, '# lint: allow drop-colum — typo\n'
                                      'op.drop_column("users", "name")')
    code, document = lint(at_head)
    assert code == 1
    assert rules_of(document) == ["drop-column", "suppression-of-unknown-rule"]


@pytest.mark.parametrize("text, found", [
    ('x = 1\n#  lint:  allow drop-column — why\n', [(2, "#  lint:  allow drop-column — why")]),
    ('x = "# lint: allow drop-column — in a string, not a comment"\n', []),
    ("# lint: allow\n", [(1, "# lint: allow")]),
    ("# a comment with no mark\nx = 1\n", []),
], ids=["spaced mark", "mark in a string", "mark without rule", "no mark"])
def test_only_comments_are_marks_whether_or_not_the_file_is_tokenized(tmp_path, text, found):
    path = tmp_path / "revision.py"
    path.write_text(text, encoding="utf-8")
    assert suppressions.marked_comments(str(path)) == found


# --- which revisions, output, exit codes, bad input -----------------------------

@pytest.mark.backends("sqlite")
def test_lint_checks_the_pending_revisions_by_default(at_head):
    result = assert_ok(at_head.manage("db", "lint"))
    assert "no revisions to check: the database is at head" in result.stdout
    at_head.add_revision(ADDED, HEAD, 'op.drop_column("users", "name")')
    result = at_head.manage("db", "lint")
    assert result.returncode == 1
    [line, summary] = result.stdout.strip().splitlines()
    assert line.startswith("{} migrations/versions/{}_test.py:{} error drop-column: ".format(
        ADDED, ADDED, line_of(at_head, ADDED, "op.drop_column")))
    assert "Safer: " in line
    assert summary == "db lint: 1 error(s), 0 warning(s) in 1 revision(s)"
    assert_ok(at_head.manage("db", "upgrade"))
    assert "no revisions to check" in assert_ok(at_head.manage("db", "lint")).stdout


@pytest.mark.backends("sqlite")
def test_lint_takes_all_a_range_or_one_revision(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.drop_column("users", "name")')
    assert_ok(at_head.manage("db", "upgrade"))
    revisions = [revision for revision, _ in committed_revisions()]
    code, everything = lint(at_head, "--all")
    assert everything["revisions_checked"] == len(revisions) + 1
    assert rules_of(everything) == ["drop-column"] and code == 1
    code, ranged = lint(at_head, "{}:{}".format(revisions[0], ADDED))
    assert ranged["revisions_checked"] == len(revisions)
    code, one = lint(at_head, HEAD)
    assert (one["revisions_checked"], one["findings"], code) == (1, [], 0)


@pytest.mark.backends("sqlite")
def test_lint_json_has_a_stable_shape(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.execute("DELETE FROM users")')
    code, document = lint(at_head)
    assert code == 0  # a warning does not fail the gate
    assert set(document) == {"revisions_checked", "squawk", "errors", "warnings", "findings",
                             "overruled"}
    assert (document["errors"], document["warnings"]) == (0, 1)
    [finding] = document["findings"]
    assert set(finding) == {"revision", "database", "file", "line", "rule", "level",
                            "problem", "safer", "source"}
    assert finding["source"] == "built-in" and finding["rule"] == "update-in-one-statement"


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("argument", ["nosuchrev", "nosuchrev:head"])
def test_an_unknown_revision_is_refused_in_one_line(at_head, argument):
    result = at_head.manage("db", "lint", argument)
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "nosuchrev" in line and "Traceback" not in result.stderr


def test_the_committed_history_is_clean(at_head):
    code, document = lint(at_head, "--all")
    assert (code, document["findings"]) == (0, [])
    assert document["revisions_checked"] == len(committed_revisions())


def test_the_flask_cli_lints_too(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.drop_table("users")')
    result = at_head.flask("db-lint")
    assert result.returncode == 1
    assert "drop-table" in result.stdout or "ban-drop-table" in result.stdout


@pytest.mark.backends("sqlite")
def test_a_revision_that_cannot_run_offline_is_said_so(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.get_bind().execute(sa.text("SELECT 1")).scalar()\n'
                                      'op.drop_column("users", "name")')
    code, document = lint(at_head)
    [finding] = document["findings"]
    assert finding["rule"] == "not-rehearsed" and finding["level"] == "warning"
    assert finding["line"] == line_of(at_head, ADDED, "op.get_bind()")


# --- squawk --------------------------------------------------------------------

@pytest.mark.backends("postgresql")
def test_squawk_findings_map_to_revisions_and_lines(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.add_column("users", sa.Column("nickname", '
                                      'sa.String(40)))\n'
                                      'op.create_index("ix_users_nickname", "users", '
                                      '["nickname"])')
    code, document = lint(at_head)
    [finding] = document["findings"]
    assert finding["source"] == "squawk" and document["squawk"] == "2.70.0"
    assert finding["rule"] == "require-concurrent-index-creation"
    assert finding["line"] == line_of(at_head, ADDED, "op.create_index")
    assert "op.create_index_online(...)" in finding["safer"] and code == 1


@pytest.mark.backends("postgresql")
def test_a_squawk_that_fails_is_not_taken_for_a_clean_revision(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.create_index("ix_users_name", "users", ["name"])')
    result = at_head.manage("db", "lint", env={"SQUAWK": shutil.which("false")})
    assert result.returncode == 1
    [note] = error_lines(result.stderr)
    assert "squawk failed (exit code 1): no output" in note
    assert "built-in rules run without it" in note
    assert "error add-index:" in result.stdout


@pytest.mark.backends("postgresql")
def test_without_squawk_the_built_in_rules_run_and_say_so(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.create_index("ix_users_name", "users", ["name"])')
    result = at_head.manage("db", "lint", env={"SQUAWK": str(at_head.root / "no-squawk")})
    assert result.returncode == 1
    [note] = error_lines(result.stderr)
    assert "does not run here" in note and "built-in rules run without it" in note
    assert "error add-index:" in result.stdout


# --- db migrate lints what it wrote --------------------------------------------

def test_db_migrate_prints_the_findings_of_the_revision_it_wrote(at_head):
    at_head.edit_models("    updated_at = db.Column(", "    updated_at_gone = None and db.Column(")
    # One revision for the whole change, as a project that deploys in one step writes it.
    result = assert_ok(at_head.manage("db", "migrate", "-m", "drop updated_at",
                                      env={"MIGRATE_PHASES": "0"}))
    assert "db lint: 1 error(s)" in result.stdout
    assert "drop-column" in result.stdout
    assert len(at_head.revision_files()) == len(committed_revisions()) + 1


def test_a_drop_written_after_the_deploy_has_no_finding(at_head):
    at_head.edit_models("    updated_at = db.Column(", "    updated_at_gone = None and db.Column(")
    result = assert_ok(at_head.manage("db", "migrate", "-m", "drop updated_at"))
    assert "error drop-column" not in result.stdout and "error ban-drop" not in result.stdout
    [written] = [n for n in at_head.revision_files() if "after_the_deploy" in n]
    text = (at_head.root / "migrations" / "versions" / written).read_text()
    assert "branch_labels = ('post_deploy',)" in text and "drop_column('updated_at')" in text
    assert_ok(at_head.manage("db", "lint", "--all"))


# --- the table lock timeout of db upgrade ----------------------------------------

@contextmanager
def lock_held_on_users(project):
    """Another connection's open transaction that has read users, as a long
    report would: ALTER TABLE users waits for it. Yields the transaction."""
    engine = sa.create_engine(project.database_url)
    holder = engine.connect()
    try:
        transaction = holder.begin()
        holder.exec_driver_sql("SELECT count(*) FROM users").scalar()
        yield transaction
        if transaction.is_active:
            transaction.rollback()
    finally:
        holder.close()
        engine.dispose()


@pytest.mark.backends("postgresql", "mysql")
def test_an_upgrade_waiting_on_a_table_lock_gives_up_and_retries_cleanly(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.add_column("users", sa.Column("nickname", '
                                      'sa.String(40)))')
    with lock_held_on_users(at_head):
        started = time.monotonic()
        result = at_head.manage("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "2"})
        waited = time.monotonic() - started
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert "revision {}".format(ADDED) in line
        assert "waited more than 2s for a lock on table users" in line
        assert "TABLE_LOCK_TIMEOUT" in line and "rolled back" in line
        assert waited < 9, "gave up after {:.1f}s, not 2s (the default is 10s)".format(waited)
    assert at_head.version() == [HEAD] and "nickname" not in at_head.columns("users")
    assert at_head.log()[-1]["success"] in (0, False)
    assert_ok(at_head.manage("db", "upgrade"))
    assert at_head.version() == [ADDED] and "nickname" in at_head.columns("users")


@pytest.mark.backends("postgresql", "mysql")
def test_upgrade_sql_scripts_set_the_lock_timeout_unless_it_is_off(project):
    script = assert_ok(project.manage("db", "upgrade", "--sql")).stdout
    expected = ("SET lock_timeout = '10000ms'" if backend_name(project) == "postgresql"
                else "SET SESSION lock_wait_timeout = 10")
    assert expected in script
    off = assert_ok(project.manage("db", "upgrade", "--sql", env={"TABLE_LOCK_TIMEOUT": "0"}))
    assert "lock_timeout" not in off.stdout and "lock_wait_timeout" not in off.stdout


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_table_lock_timeout_is_refused_in_one_line(project, value):
    result = project.manage("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": value})
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "table lock timeout" in line and "TABLE_LOCK_TIMEOUT" in line
    assert project.version() in (None, [])


@pytest.mark.backends("postgresql", "mysql")
def test_an_upgrade_waits_for_a_lock_released_before_the_timeout(at_head):
    at_head.add_revision(ADDED, HEAD, 'op.add_column("users", sa.Column("nickname", '
                                      'sa.String(40)))')
    with lock_held_on_users(at_head) as transaction:
        release = threading.Timer(1.5, transaction.rollback)
        release.start()
        try:
            assert_ok(at_head.manage("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "8"}))
        finally:
            release.join()
    assert at_head.version() == [ADDED]
