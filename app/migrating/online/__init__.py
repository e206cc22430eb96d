"""The online forms: operations a revision calls so that the app keeps
reading and writing its tables while `db upgrade` changes them. `db
migrate` writes them (autogenerate/online.py); a hand-written revision may
call them too. Importing this package registers them with Alembic.

    operations.py  what each operation is, as a revision calls it
                   (op.create_index_online, ...), and its downgrade
    backfill.py    op.backfill: an UPDATE in batches of the key, each
                   committed on its own, resumed where it stopped
    expand_contract.py
                   op.expand_column / op.contract_column on PostgreSQL: a
                   column's new type or name prepared beside it before the
                   deploy (shadow column, trigger, backfill, copied
                   indexes), swapped in after it in one short transaction
    postgresql.py  how each runs on PostgreSQL: CONCURRENTLY, USING INDEX,
                   NOT VALID then VALIDATE, NOT NULL through a CHECK
    mysql.py       how each runs on MariaDB/MySQL: ALGORITHM=INPLACE,
                   LOCK=NONE; a foreign key without the table copy
    sqlite.py      how each runs on SQLite: the plain operation (and on
                   MariaDB/MySQL, an operation mysql.py has no form of)
    resume.py      a revision that commits part by part, counted in the
                   migration log, and the rerun that goes on from there
    failures.py    rows that refuse a step (duplicates, orphans, NULLs),
                   in one line
    progress.py    a progress bar at a terminal, a line per tenth elsewhere
    statements.py  the operations' own SQL, for the dialect
    table_copy.py  an ALTER TABLE MariaDB must copy: in place first, else
                   pt-online-schema-change (mysql.py sends every ALTER there)
"""
import logging

from alembic.operations import Operations

from . import expand_contract, mysql, postgresql, resume, sqlite
from .backfill import BackfillOp
from .operations import (
    ONLINE_OPERATIONS,
    ContractColumnOp,
    CreateCheckOnlineOp,
    CreateForeignKeyOnlineOp,
    CreateIndexOnlineOp,
    CreateUniqueOnlineOp,
    DropIndexOnlineOp,
    ExpandColumnOp,
    SetNotNullOnlineOp,
)

__all__ = ["NAMES", "ONLINE_OPERATIONS", "BackfillOp", "ContractColumnOp",
           "CreateCheckOnlineOp", "CreateForeignKeyOnlineOp", "CreateIndexOnlineOp",
           "CreateUniqueOnlineOp", "DropIndexOnlineOp", "ExpandColumnOp", "SetNotNullOnlineOp"]

DIALECTS = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}
# Each operation as a revision calls it: op.<name>(...).
NAMES = {CreateIndexOnlineOp: "create_index_online", DropIndexOnlineOp: "drop_index_online",
         CreateUniqueOnlineOp: "create_unique_online",
         CreateForeignKeyOnlineOp: "create_foreign_key_online",
         CreateCheckOnlineOp: "create_check_online", SetNotNullOnlineOp: "set_not_null_online",
         BackfillOp: "backfill", ExpandColumnOp: "expand_column",
         ContractColumnOp: "contract_column"}
# Each operation, and the name of the function that runs it in each
# dialect's module.
RUNS_AS = {CreateIndexOnlineOp: "create_index", DropIndexOnlineOp: "drop_index",
           CreateUniqueOnlineOp: "create_unique", CreateForeignKeyOnlineOp: "create_foreign_key",
           CreateCheckOnlineOp: "create_check", SetNotNullOnlineOp: "set_not_null",
           ExpandColumnOp: "expand_column", ContractColumnOp: "contract_column"}
# Where an operation's PostgreSQL form lives in a module of its own.
OWN_MODULES = {ExpandColumnOp: {"postgresql": expand_contract},
               ContractColumnOp: {"postgresql": expand_contract}}


logger = logging.getLogger("alembic.runtime.migration")


def _per_dialect(name, modules):
    def run(operations, operation):
        context = operations.migration_context
        dialect = modules.get(context.dialect.name, sqlite)  # another: the plain ones
        if dialect is not sqlite and not resume.commits_part_by_part(context):
            logger.warning("%s runs as the plain operation: the revision runs inside a "
                           "transaction it does not own", name)
            dialect = sqlite
        # A dialect without a form of its own for it: the plain one.
        return getattr(dialect, name, getattr(sqlite, name))(operations, operation)

    return run


for _operation, _name in RUNS_AS.items():
    Operations.implementation_for(_operation)(
        _per_dialect(_name, dict(DIALECTS, **OWN_MODULES.get(_operation, {}))))
