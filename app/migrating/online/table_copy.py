"""An ALTER TABLE that MariaDB/MySQL can only run by copying the table, run
without holding the table's writes: pt-online-schema-change (Percona
Toolkit) copies the rows, in chunks, into a new table with the change,
which its triggers keep up to date; then one RENAME swaps the two.

The server copies a table for some changes (a column's type, an ENUM's
values removed or reordered) and holds every write to it until the copy
ends: INT to BIGINT on 10^6 rows held each write 5.1 s. So, during an
online `db upgrade` or `db downgrade`, each ALTER TABLE of a revision
(op.alter_column, a batch block, op.execute("ALTER TABLE ...")) comes here
(mysql.py hands it over), unless it names its own ALGORITHM or LOCK:

1. it runs with ALGORITHM=INPLACE, LOCK=NONE. MariaDB takes INPLACE as "in
   place or better" (INSTANT, NOCOPY), so what does not block writes runs
   as written, and nothing else happens;
2. when the server answers that only a copy will do ("Try ALGORITHM=COPY"),
   the table's rows are counted up to ONLINE_COPY_MIN_ROWS: below that the
   plain ALTER copies it (a short hold); from there pt-online-schema-change
   copies it, with the upgrade's own connection settings and its table
   lock timeout, and a progress line;
3. without the tool, such an ALTER on a table that big is refused in one
   line saying what to install, rather than run blocking writes.

Refused in one line, each with the way out: a table with triggers of its
own (the tool needs its own), a table other tables' foreign keys reference
(the tool would rebuild those keys, or drop the table for a moment), a
copy that would change values (the tool copies with INSERT IGNORE, which
turns a removed ENUM value or a cut string into a warning): the swap is
done here, not by the tool, so that such a copy is dropped instead. The
table's own foreign keys get back the names the tool changes. A run killed
while the tool copied leaves its new table and triggers behind (the tool
itself is ended with db upgrade, on Linux): the next run removes them,
then copies again.

Settings, each read as TABLE_LOCK_TIMEOUT is (table_locks.py):
ONLINE_COPY_MIN_ROWS (`-x online_copy_min_rows=N`, the environment, the
app's config; 10000 by default; 0 sends every copy through the tool), and
PT_ONLINE_SCHEMA_CHANGE, the tool's path (the environment, the app's
config; by default found on PATH).
"""
import ctypes
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import context
from flask import current_app, has_app_context
from sqlalchemy.exc import DBAPIError

from ..database import database_error, first_line
from ..table_locks import SETTING as TABLE_LOCK_TIMEOUT
from .failures import RERUN, StepRefused
from .progress import Progress

TOOL = "pt-online-schema-change"
TOOL_SETTING = "PT_ONLINE_SCHEMA_CHANGE"
INSTALL = "apt-get install percona-toolkit"
MIN_ROWS_SETTING = "ONLINE_COPY_MIN_ROWS"
MIN_ROWS_X_ARGUMENT = "online_copy_min_rows"
DEFAULT_MIN_ROWS = 10000
IN_PLACE = "ALGORITHM=INPLACE, LOCK=NONE"
# MySQL's ER_ALTER_OPERATION_NOT_SUPPORTED and ..._REASON; they end "Try
# ALGORITHM=COPY" where only a copy will do (a rename, say, is refused
# LOCK=NONE but done in place: "Try LOCK=EXCLUSIVE").
ALTER_NOT_SUPPORTED = (1845, 1846)
ONLY_A_COPY = "ALGORITHM=COPY"
MYSQL_SYNTAX_ERROR = 1064
LOCK_WAIT_TIMEOUT = "Lock wait timeout exceeded"
# pt-online-schema-change's exit status when the table has no key its
# DELETE trigger can find a row by.
TOOL_NO_KEY = 4
# The tool retries creating its triggers 10 times by default, each wait
# for the table's lock holding its writes up to the lock timeout; 3 tries
# bound that, as the table lock timeout bounds a plain statement. (The swap
# and the triggers' drop are swap()'s, one try each.)
TOOL_TRIES = "create_triggers:3:1"
# Seconds the tool aims each chunk of its copy at (0.5 by default). Each
# chunk is an INSERT ... SELECT that locks the rows it reads and, under
# innodb_autoinc_lock_mode 1 (MariaDB's default), the new table's
# AUTO_INCREMENT, which the triggers' writes need: an app's update of a
# row in the chunk is then rolled back as a deadlock. At 10^6 rows, 0.5 s
# chunks failed 17-25% of a writer's updates, 0.1 s chunks 0-13%, for a
# copy 10% longer; mode 2 is the cure (AUTOINC_LOCK_MODE).
CHUNK_SECONDS = "0.1"
AUTOINC_LOCK_MODE = ("innodb_autoinc_lock_mode is %s on this server, so some of the "
                     "app's writes to the table may fail as deadlocks meanwhile (retry "
                     "them); innodb_autoinc_lock_mode = 2 in the server's configuration "
                     "avoids that")
# The tool's copy and the table it replaces; its triggers are named
# pt_osc_<database>_<table>_{ins,upd,del}. A run killed part-way leaves some.
NEW_TABLE = "_{}_new"
OLD_TABLE = "_{}_old"
TOOL_TRIGGERS = "pt!_osc!_%"
# How the tool says that a copied value did not fit the new definition (an
# ENUM value removed, a string cut): it goes on, with the value changed, so
# the swap is not left to it.
VALUE_CHANGED = "Copying rows caused a MySQL error 1265"
# In the tool's output on failure: the server's message, when it quotes
# one; the lines that are not the reason (where it stopped, what it left).
SERVER_MESSAGE = re.compile(r"^\s*Message: (.+)$")
TOOL_NOISE = re.compile(r"^(?:#|Not dropping|DROP (?:TRIGGER|TABLE) |`.+` was not altered|"
                        r"\s*(?:Level|Code|Query):)")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d ")
APPROXIMATE_ROWS = re.compile(r"Copying approximately (\d+) rows")
PERCENT_COPIED = re.compile(r"^Copying `.+`:\s+(\d+)% ")
ALTER_TABLE = re.compile(
    r"^\s*ALTER\s+TABLE\s+(?:(?P<schema>`[^`]+`|\w+)\s*\.\s*)?(?P<table>`[^`]+`|\w+)"
    r"\s+(?P<clause>\S.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
CHOSEN_ALGORITHM = re.compile(r"\b(?:ALGORITHM|LOCK)\s*=", re.IGNORECASE)
# Linux: the tool gets SIGTERM when db upgrade dies, and then removes its
# triggers and new table itself, instead of copying on unwatched.
PR_SET_PDEATHSIG = 1
ON_LINUX = sys.platform.startswith("linux")

logger = logging.getLogger("alembic.runtime.migration")


class AlterTable(namedtuple("AlterTable", "statement schema table clause")):
    """An ALTER TABLE statement: its SQL, the table's schema (None: the
    connection's database) and name, and what follows the name."""

    @classmethod
    def parse(cls, sql):
        """The AlterTable of the SQL text `sql`, or None when it is not one
        this module handles (another statement, or one that chooses its own
        ALGORITHM or LOCK)."""
        found = ALTER_TABLE.match(sql)
        if found is None or CHOSEN_ALGORITHM.search(found.group("clause")):
            return None
        schema = found.group("schema")
        return cls(sql.strip().rstrip(";").rstrip(), schema and schema.strip("`"),
                   found.group("table").strip("`"), found.group("clause"))


def sql_of(construct, dialect):
    """The SQL text of what alembic executes (a string, text() or a DDL
    element), or None for anything else (a SELECT, an INSERT...)."""
    if isinstance(construct, str):
        return construct
    if not isinstance(construct, (sa.sql.elements.TextClause, sa.schema.DDLElement)):
        return None
    compiled = construct.compile(dialect=dialect)
    return None if compiled.params else str(compiled)


def alter(impl, migration_context, statement):
    """Run the AlterTable `statement` in place, else copy the table
    (plainly when it is small, else online); StepRefused when it cannot be
    done without blocking the table's writes. `impl` runs SQL as it is
    (mysql.py's execute_as_is)."""
    try:
        return _run(impl, statement.statement + ", " + IN_PLACE)
    except DBAPIError as error:
        code, message = _mysql_error(error)
        if code == MYSQL_SYNTAX_ERROR:  # a clause after which no option fits
            return _run(impl, statement.statement)
        if code not in ALTER_NOT_SUPPORTED:
            raise
        if ONLY_A_COPY not in message:
            # In place with a lock: what the plain statement does.
            return _run(impl, statement.statement)
        reason = _reason(message)
    # Copied by the tool or not, nothing of this statement can be rolled
    # back: commit what came before, and hold no lock on the table that
    # the tool's RENAME would wait for.
    with migration_context.autocommit_block():
        copy(impl, statement, reason)


def copy(impl, statement, reason):
    """Copy the table with `statement`'s change: plainly below the row
    threshold, else with pt-online-schema-change."""
    database = statement.schema or _scalar(impl, "SELECT DATABASE()")
    table = TableBeingCopied(impl, database, statement.table)
    threshold = min_rows()
    rows = table.rows_up_to(threshold)
    if rows < threshold:
        logger.info("ALTER TABLE %s copies the table (%s): %d rows, fewer than %s=%d, so "
                    "the plain ALTER", statement.table, reason, rows, MIN_ROWS_SETTING,
                    threshold)
        _run(impl, statement.statement)
        return
    tool = tool_path()
    if tool is None:
        raise StepRefused(
            "ALTER TABLE {} copies the table ({}), holding its writes until the copy "
            "of its {} or more rows ends, and {} that copies it online is not installed: "
            "install it ({}) or set {} to its path, {}; or, to copy it with the plain "
            "ALTER, raise {} above its rows".format(
                statement.table, reason, threshold, TOOL, INSTALL, TOOL_SETTING, RERUN,
                MIN_ROWS_SETTING))
    table.remove_leftovers()
    table.refuse_what_the_tool_cannot_copy()
    keys = table.foreign_keys()
    says = ("ALTER TABLE %s copies the table (%s): %d rows or more, so %s copies it "
            "while the app writes", statement.table, reason, threshold, TOOL)
    autoinc_lock_mode = _scalar(impl, "SELECT @@GLOBAL.innodb_autoinc_lock_mode")
    if autoinc_lock_mode != 2 and table.has_auto_increment():
        logger.warning(says[0] + "; but " + AUTOINC_LOCK_MODE, *says[1:], autoinc_lock_mode)
    else:
        logger.info(*says)
    output = run_tool(tool, impl, table, statement.clause)
    changed = [line for line in output if line.startswith(VALUE_CHANGED)]
    if changed:
        table.drop(*table.leftovers())
        raise StepRefused(
            "ALTER TABLE {} would change values of rows it copies ({}): rows hold values "
            "the new definition does not take; the table is unchanged: fix those rows, "
            "{}".format(statement.table, changed[0][len(VALUE_CHANGED):].strip(" :"), RERUN))
    table.swap()
    table.rename_foreign_keys(keys)


def min_rows():
    """The setting ONLINE_COPY_MIN_ROWS: from how many rows a table copy
    goes through pt-online-schema-change."""
    raw = context.get_x_argument(as_dictionary=True).get(MIN_ROWS_X_ARGUMENT) \
        or os.environ.get(MIN_ROWS_SETTING) or current_app.config.get(MIN_ROWS_SETTING)
    if raw is None:
        return DEFAULT_MIN_ROWS
    try:
        rows = int(str(raw))
    except ValueError:
        rows = -1
    if rows < 0:
        raise StepRefused("{} {!r} is not a number of rows: set {} or -x {}=N (0 copies "
                          "every table with {})".format(MIN_ROWS_SETTING, raw,
                                                        MIN_ROWS_SETTING,
                                                        MIN_ROWS_X_ARGUMENT, TOOL))
    return rows


def tool_path():
    """The pt-online-schema-change to run (PT_ONLINE_SCHEMA_CHANGE, else
    the one on PATH), or None when there is none."""
    configured = os.environ.get(TOOL_SETTING) or (
        current_app.config.get(TOOL_SETTING) if has_app_context() else None)
    return shutil.which(configured or TOOL)


class TableBeingCopied:
    """The table an ALTER copies, as the checks before the copy read it."""

    def __init__(self, impl, database, name):
        self.impl = impl
        self.database = database
        self.name = name

    def rows_up_to(self, limit):
        """The table's rows, counted no further than `limit`."""
        # A quoted name and an integer: nothing a user typed.
        return _scalar(self.impl, "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT {:d}) AS seen"  # noqa: S608
                       .format(self.qualified(self.name), limit))

    def remove_leftovers(self):
        """Drop what a pt-online-schema-change run or a swap killed part-way
        left: the tool's triggers, its new table, the table it replaced."""
        triggers, tables = self.leftovers()
        self.drop(triggers, tables)
        if triggers or tables:
            logger.warning("removed what an interrupted %s run left: %s", TOOL,
                           ", ".join(triggers + tables))

    def leftovers(self):
        """([the tool's triggers], [its new table and the old one, if there])."""
        names = [NEW_TABLE.format(self.name), OLD_TABLE.format(self.name)]
        triggers = _column(self.impl, sa.text(
            "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = :db "
            "AND event_object_table IN :tables AND trigger_name LIKE :tool ESCAPE '!' "
            "ORDER BY 1").bindparams(sa.bindparam("tables", expanding=True)),
            db=self.database, tables=[self.name] + names, tool=TOOL_TRIGGERS)
        tables = _column(self.impl, sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :db "
            "AND table_name IN :names ORDER BY 1").bindparams(
                sa.bindparam("names", expanding=True)), db=self.database, names=names)
        return triggers, tables

    def drop(self, triggers, tables):
        """Drop `triggers`, then `tables` (the triggers write into them)."""
        for trigger in triggers:
            _run(self.impl, "DROP TRIGGER IF EXISTS " + self.qualified(trigger))
        for table in tables:
            _run(self.impl, "DROP TABLE IF EXISTS " + self.qualified(table))

    def swap(self):
        """Put the tool's copy in the table's place with one RENAME (as long
        as the table lock timeout lets it wait), then drop the tool's
        triggers and the table it replaced."""
        old = OLD_TABLE.format(self.name)
        _run(self.impl, "RENAME TABLE {} TO {}, {} TO {}".format(
            self.qualified(self.name), self.qualified(old),
            self.qualified(NEW_TABLE.format(self.name)), self.qualified(self.name)))
        self.drop(*self.leftovers())

    def refuse_what_the_tool_cannot_copy(self):
        """StepRefused when the table has triggers, or other tables' foreign
        keys reference it."""
        plain = ("or raise {} above its rows to copy it with the plain ALTER, which holds "
                 "its writes while it copies".format(MIN_ROWS_SETTING))
        triggers = _column(self.impl, sa.text(
            "SELECT trigger_name FROM information_schema.triggers WHERE event_object_schema "
            "= :db AND event_object_table = :table ORDER BY 1"),
            db=self.database, table=self.name)
        if triggers:
            raise StepRefused(
                "table {} has triggers ({}), and {} copies a table through triggers of its "
                "own: drop them before this change and create them again after it, in the "
                "revision, {}".format(self.name, ", ".join(triggers), TOOL, plain))
        children = _column(self.impl, sa.text(
            "SELECT DISTINCT CONCAT(table_name, '.', constraint_name) FROM "
            "information_schema.referential_constraints WHERE unique_constraint_schema = "
            ":db AND referenced_table_name = :table ORDER BY 1"),
            db=self.database, table=self.name)
        if children:
            raise StepRefused(
                "foreign keys of other tables reference {} ({}), and {} would rebuild them "
                "(a blocking ALTER of each of those tables) or drop {} for a moment: drop "
                "them before this change and add them again after it with "
                "op.create_foreign_key_online, {}".format(
                    self.name, ", ".join(children), TOOL, self.name, plain))

    def has_auto_increment(self):
        return bool(_column(self.impl, sa.text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = :db AND "
            "table_name = :table AND extra LIKE '%auto_increment%'"),
            db=self.database, table=self.name))

    def foreign_keys(self):
        """The names of the table's own foreign keys."""
        return set(_column(self.impl, sa.text(
            "SELECT constraint_name FROM information_schema.table_constraints WHERE "
            "constraint_schema = :db AND table_name = :table AND constraint_type = "
            "'FOREIGN KEY'"), db=self.database, table=self.name))

    def rename_foreign_keys(self, names):
        """Give the table's foreign keys back their `names`: the tool
        copies them under its own (with leading underscores), as InnoDB
        wants each name once per database. Each is dropped and added again
        in place, without checking the rows, which the copy kept."""
        definitions = re.findall(r"^\s*CONSTRAINT `((?:[^`]|``)+)` (FOREIGN KEY .*?),?$",
                                 self.create_table(), re.MULTILINE)
        renames = [(now, now.lstrip("_"), definition) for now, definition in definitions
                   if now not in names and now.lstrip("_") in names]
        if not renames:
            return
        _run(self.impl, "SET SESSION foreign_key_checks = 0")
        try:
            _run(self.impl, "ALTER TABLE {} {}, {}".format(
                self.qualified(self.name), ", ".join(
                    "DROP FOREIGN KEY {}, ADD CONSTRAINT {} {}".format(
                        self.quote(now), self.quote(name), definition)
                    for now, name, definition in renames), IN_PLACE))
        finally:
            _run(self.impl, "SET SESSION foreign_key_checks = 1")

    def create_table(self):
        return self.impl.execute_as_is(sa.text(
            "SHOW CREATE TABLE " + self.qualified(self.name))).first()[1]

    def quote(self, name):
        return "`{}`".format(name.replace("`", "``"))

    def qualified(self, name):
        return "{}.{}".format(self.quote(self.database), self.quote(name))


def run_tool(tool, impl, table, clause):
    """pt-online-schema-change --alter `clause` on `table`, with the
    connection's server, user and password (the password in a private
    option file, never on the command line), its lock_wait_timeout, and a
    progress line, up to the copy: it leaves its new table, kept up to date
    by its triggers, for swap(). Return the tool's output lines;
    StepRefused in one line when the tool fails."""
    url = impl.connection.engine.url
    seconds = _scalar(impl, "SELECT @@SESSION.lock_wait_timeout")
    with option_file(url) as options:
        command = [tool, "--alter", clause, "--execute", "--no-version-check",
                   # No replicas to watch: without this it looks for them.
                   "--recursion-method", "none", "--charset", "utf8mb4",
                   "--set-vars", "lock_wait_timeout={:d}".format(int(seconds)),
                   "--tries", TOOL_TRIES, "--chunk-time", CHUNK_SECONDS,
                   "--progress", "percentage,10",
                   "--new-table-name", NEW_TABLE.format("%T"),
                   "--no-swap-tables", "--no-drop-triggers", "--no-drop-new-table",
                   "F={},D={},t={}".format(options, table.database, table.name)]
        # --check-alter stays on: it refuses a DROP PRIMARY KEY and a rename
        # it cannot follow, which would lose a column's values.
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # noqa: S603
                                   stdin=subprocess.DEVNULL, text=True,
                                   preexec_fn=_end_with_parent if ON_LINUX else None)
        output = _follow(process, "{} {}".format(TOOL, table.name))
    if process.returncode != 0:
        # Kept on success for swap(), the tool's new table and triggers go.
        table.drop(*table.leftovers())
        raise StepRefused(tool_failure(table.name, process.returncode, output, seconds))
    logger.info("%s copied %s in %.1f s", TOOL, table.name, time.monotonic() - started)
    return output


@contextmanager
def option_file(url):
    """The path of an option file, readable by this user only, holding
    `url`'s host, port, socket, user and password, for the block."""
    values = {"host": url.host or "localhost", "port": url.port,
              "socket": url.query.get("unix_socket"), "user": url.username,
              "password": url.password}
    handle, path = tempfile.mkstemp(prefix="migration-", suffix=".cnf")
    try:
        with os.fdopen(handle, "w") as written:
            written.write("[client]\n")
            for key, value in values.items():
                if value is not None:
                    written.write('{}="{}"\n'.format(
                        key, str(value).replace("\\", "\\\\").replace('"', '\\"')))
        yield path
    finally:
        os.unlink(path)


def _follow(process, what):
    """Read the tool's output to its end, turning its "Copying ...: N%"
    reports into a Progress; return the output's lines."""
    lines, progress, total, done = [], None, 100, 0
    for line in process.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        approximate = APPROXIMATE_ROWS.search(line)
        copied = PERCENT_COPIED.match(line)
        if approximate:
            total = max(int(approximate.group(1)), 1)
            progress = Progress(what, total)
        elif copied and progress is not None:
            now = total * int(copied.group(1)) // 100
            progress.update(now, now - done)
            done = now
    process.wait()
    if progress is not None and process.returncode == 0:
        progress.update(total, total - done)
        progress.finish()
    return lines


def tool_failure(table, returncode, output, seconds):
    """The one line that says why pt-online-schema-change failed on
    `table`, from its exit status and output."""
    if returncode < 0:
        return ("{} was killed ({}) while it copied {}; the table is unchanged: {}".format(
            TOOL, signal.Signals(-returncode).name, table, RERUN))
    messages = [found.group(1) for found in map(SERVER_MESSAGE.match, output) if found]
    said = [TIMESTAMP.sub("", line).strip() for line in output
            if line.strip() and not TOOL_NOISE.match(line)]
    last = (messages or said or ["exit status {}".format(returncode)])[-1]
    if any(LOCK_WAIT_TIMEOUT in line for line in output):
        return ("{} waited more than {}s for a lock on table {} that another transaction "
                "holds, and gave up; the table is unchanged: retry when that transaction "
                "ends, or wait longer with {}=<seconds>".format(
                    TOOL, seconds, table, TABLE_LOCK_TIMEOUT))
    if returncode == TOOL_NO_KEY:
        return ("{} copies only a table with a primary key or a unique index, and {} has "
                "neither: add one first, or raise {} above its rows to copy it with the "
                "plain ALTER".format(TOOL, table, MIN_ROWS_SETTING))
    # The exit status is said only when the tool said nothing else: after an
    # error it exits from Perl's cleanup, whose status changes from run to
    # run (11 or 25 for the same out-of-range row).
    return "{} failed on {}: {}; the table is unchanged".format(TOOL, table, last)


def _end_with_parent():
    """In the tool's process, before it starts: end with db upgrade (Linux's
    prctl; Windows takes no preexec_fn at all)."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _mysql_error(error):
    """(code, message) of a MySQL error."""
    arguments = getattr(database_error(error), "args", ())
    code = arguments[0] if arguments else None
    return code, str(arguments[1]) if len(arguments) > 1 else first_line(error)


def _reason(message):
    """The server's reason for a copy, lower-cased: "ALGORITHM=INPLACE is not
    supported. Reason: Cannot change column type. Try ALGORITHM=COPY" gives
    "cannot change column type"."""
    found = re.search(r"Reason: (.+?)\.? Try ", message)
    said = found.group(1) if found else message
    return said[:1].lower() + said[1:]


def _run(impl, sql):
    # text() would read a colon (a time in a default, say) as a parameter.
    return impl.execute_as_is(sa.text(sql.replace(":", "\\:")))


def _scalar(impl, sql):
    return impl.execute_as_is(sa.text(sql)).scalar()


def _column(impl, query, **values):
    return [row[0] for row in impl.execute_as_is(query, values)]
