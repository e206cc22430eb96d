"""What `db migrate` writes: Alembic's autogenerate, compared more closely
and rewritten before the file is written, so that a revision runs unedited
on the database it was made against and loses no data.

    sqlite.py            SQLite's CHECKs of Enum columns: compared, added
                         once, dropped before their column
    postgresql.py        PostgreSQL's enum types, by alembic-postgresql-enum
    mysql.py             MariaDB/MySQL's ENUM values, on every alembic
    compare.py           how those comparisons join Alembic's
    render.py            how the rewritten operations are written, on every
                         alembic
    not_null.py          a NOT NULL column added to a table that has rows, or
                         an existing column made NOT NULL
    online.py            the online form of each change on PostgreSQL and
                         MariaDB/MySQL (indexes, unique, foreign keys, NOT
                         NULL), which online/ runs
    expand_contract.py   a rename, a type change that rewrites the table, an
                         enum value removed, on PostgreSQL: expand before
                         the deploy, contract after it
    post_deploy.py       what runs after the deploy (drops, the contract
                         half of a change), written as a second revision on
                         the post_deploy branch (../phases.py)
    renames.py           a column (or table) dropped and one like it added:
                         renamed?
    order.py             the order MariaDB/MySQL accepts: foreign keys
                         before the indexes they use
    string_length.py     a String without a length, which MariaDB/MySQL
                         cannot create: refused there, a warning elsewhere
    questioner.py        who answers: the person at the terminal, or, without
                         one, the safe answer or a refusal

Detection is apart from asking (as in Django's autodetector and
questioner): not_null.py and renames.py find the cases, questioner.py
decides them.
"""
import logging

from alembic import context

from . import (
    expand_contract,
    mysql,
    not_null,
    online,
    order,
    post_deploy,
    postgresql,
    renames,
    sqlite,
    string_length,
)
from .questioner import questioner_for_this_run

logger = logging.getLogger("alembic.env")


def prepare(dialect_name):
    """Switch on the comparisons this dialect needs, before autogenerate
    runs or revisions written by it run."""
    if dialect_name == "postgresql":
        postgresql.enable()
    elif dialect_name == "sqlite":
        sqlite.enable()
    elif dialect_name == "mysql":
        mysql.enable()


def revision_writer(databases=1):
    """The process_revision_directives callback of the migration env. Alembic
    calls it once per database of a run (one, or each bind of a multidb
    repository), after comparing that database; it rewrites that database's
    operations and, once all `databases` are compared, drops a revision with
    no operations, so that `db migrate` with no model change writes no file."""
    def write(migration_context, revision, directives):
        if not getattr(context.config.cmd_opts, "autogenerate", False):
            return  # db check compares only; nothing is written or asked
        script = directives[0]
        upgrade_ops, downgrade_ops = script.upgrade_ops_list[-1], script.downgrade_ops_list[-1]
        dialect = migration_context.dialect
        questioner = questioner_for_this_run()
        # Before any question: an answer would be wasted on a refusal.
        string_length.refuse_or_warn(upgrade_ops, dialect)
        # A multidb repository runs its databases in transactions committed
        # together, which an online operation's autocommit block would break.
        multidb = context.config.get_main_option("multidb") == "true"
        writes_online = online.enabled(dialect) and not multidb
        renames.ask_about_table_renames(upgrade_ops, downgrade_ops, questioner,
                                        migration_context)
        renames.ask_about_renames(upgrade_ops, downgrade_ops, questioner, migration_context)
        not_null.fill_nulls_of_columns_made_not_null(upgrade_ops, questioner, dialect,
                                                     online=writes_online)
        not_null.fill_new_not_null_columns(upgrade_ops, questioner, dialect, online=writes_online)
        not_null.fill_new_not_null_columns(downgrade_ops, questioner, dialect, downgrade=True,
                                           online=writes_online)
        if dialect.name == "sqlite":
            sqlite.rewrite_checks(upgrade_ops, downgrade_ops, migration_context)
        order.in_safe_order(upgrade_ops)
        order.in_safe_order(downgrade_ops)
        if writes_online and dialect.name == "postgresql":
            expand_contract.write_in_halves(upgrade_ops, downgrade_ops, questioner)
        if writes_online:
            online.write_online_forms(upgrade_ops, dialect)
            online.write_online_forms(downgrade_ops, dialect)
        operations = script.upgrade_ops_list
        if len(operations) >= databases and all(ops.is_empty() for ops in operations):
            directives[:] = []
            logger.info("No changes in schema detected.")
        elif not multidb and post_deploy.enabled():
            post_deploy.write_in_phases(directives, context.script)

    return write
