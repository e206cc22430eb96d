"""Writes during `db upgrade`: what a schema change does to the app's
writes while it runs, on a users table of many rows, on PostgreSQL and
MariaDB, beside the same change as plain Flask-Migrate writes it.

For each change of the models (CHANGES), on a copy of a database loaded by
the database itself: `db migrate` run unedited without a terminal, `db lint
--json` on the revision it wrote, then `db upgrade` while two writers, each
on its own autocommit connection, alternate an INSERT of a new user and an
UPDATE of a random one at a steady rate. Recorded: the longest single write
that overlapped the upgrade (and the 99th percentile), failed writes, the
upgrade's wall time, the lint verdict and whether it agrees with the stall,
`db check` afterwards,
`db downgrade -1` then `db upgrade`, and rows lost (the table must hold the
loaded rows plus every insert that succeeded).

The reference ("plain") is the same app with Flask-Migrate's own env.py and
templates and `flask_migrate.Migrate(compare_type=True,
render_as_batch=True)`: what Alembic's autogenerate writes unaided, run by
Flask-Migrate's env. Its revisions are linted by our `db lint` too (the
command is ours in both copies; it rehearses revisions on its own), and its
`db check` is Alembic's comparison as that env configures it.

One upgrade per case: the longest write is a maximum, not a median.

While the upgrade runs, a watcher asks the server every WATCH_INTERVAL
seconds whether a writer is waiting for a lock (PostgreSQL: a writer's
backend in a Lock wait; MariaDB: in a metadata lock wait, or its InnoDB
transaction in LOCK WAIT): the longest such wait is what the migration's
locks cost the app, apart from what the machine's CPU and disk cost it
(an index build on two cores slows the writers' commits without holding
them). On PostgreSQL it also counts what else the writers were seen waiting
for (WALSync: their commits waiting for the disk).

Whether lint is right is judged at the largest size, against both sizes: a
change blocks the app's writes when one of them took TARGET_SECONDS or more,
or when the longest lock wait grew with the table (more than GROWTH times
from the smallest size, past NOISE_SECONDS): a statement that holds the
writes while it reads every row holds them ten times longer on ten times the
rows, whatever the speed of the machine. lint is right when it says error
exactly for the changes that block. A run of one size (QUICK) judges
nothing.
"""
import json
import math
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import flask_migrate
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app.migrating.database import create_database, drop_database
from bench.big_tables import driver_connection
from bench.measure import SERVER_URLS, environment, execute_sql, manage, project_copy, run
from tests.support import error_lines

BACKENDS = ("postgresql", "mysql")
TARGET_SECONDS = 0.1
TARGET_ROWS = 10 ** 6
# The longest write "does not grow" from the smallest size to TARGET_ROWS:
# at most this many times, or under NOISE_SECONDS.
GROWTH = 2.0
NOISE_SECONDS = 0.05
WRITERS = 2
# Seconds between the starts of one writer's writes: about 130 writes a
# second from the two, a steady trickle rather than a load test.
INTERVAL = 0.015
# Seconds the writers write before the upgrade starts and after it ends, so
# that the upgrade's whole window sees writes at the steady rate.
SETTLE = 0.5
TEAMS = 10
# How often the watcher asks the server whether a writer waits for a lock.
WATCH_INTERVAL = 0.005
# A writer waiting for a lock, as the server shows it, for the writers'
# sessions ({ids}).
LOCK_WAITING = {
    "postgresql": "SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN ({ids}) "
                  "AND wait_event_type = 'Lock'",
    "mysql": "SELECT COUNT(*) FROM information_schema.processlist p "
             "LEFT JOIN information_schema.innodb_trx t ON t.trx_mysql_thread_id = p.id "
             "WHERE p.id IN ({ids}) AND (p.state LIKE 'Waiting for%%lock' "
             "OR t.trx_state = 'LOCK WAIT')",
}
# What else a PostgreSQL writer was seen waiting for.
WAITING_FOR = ("SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity "
               "WHERE pid IN ({ids}) AND state = 'active' AND wait_event IS NOT NULL")
SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}

USER_ANCHOR = "    def to_dict(self):"
END_ANCHOR = "def _isoformat(moment):"


def in_user(*lines):
    """An edit of app/models.py adding `lines` to the User model."""
    return USER_ANCHOR, "".join("    {}\n".format(line) for line in lines) + "\n" + USER_ANCHOR


def new_model(text):
    """An edit of app/models.py adding the model `text` after User."""
    return END_ANCHOR, text.strip() + "\n\n\n" + END_ANCHOR


# The state every change starts from, made once by `db migrate` on each
# side: a teams table, and two columns of users that every row fills (the
# NOT NULL and foreign key changes need them filled).
BEFORE = (
    in_user("team_id = db.Column(db.Integer)", "handle = db.Column(db.String(64))"),
    new_model('''
class Team(db.Model):
    __tablename__ = "teams"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False)
'''),
)
NAME = "name = db.Column(db.String(128), nullable=False)"


class Change:
    """A change of the models: a short name, what it is, and its edits of
    app/models.py [(old text, new text)] from the BEFORE state."""

    def __init__(self, name, label, *edits):
        self.name = name
        self.label = label
        self.edits = edits


CHANGES = (
    Change("index", "index=True on users.name",
           (NAME, NAME.replace("nullable=False", "nullable=False, index=True"))),
    Change("unique column", "a new nullable unique column users.nickname",
           in_user("nickname = db.Column(db.String(64), unique=True)")),
    Change("not null", "users.handle, filled, made NOT NULL",
           ("handle = db.Column(db.String(64))",
            "handle = db.Column(db.String(64), nullable=False)")),
    Change("foreign key", "a foreign key on users.team_id, filled, to teams.id",
           ("team_id = db.Column(db.Integer)",
            'team_id = db.Column(db.Integer, db.ForeignKey("teams.id"))')),
    Change("varchar", "users.name String(128) to String(200)",
           (NAME, NAME.replace("128", "200"))),
    Change("cheap", "a new table notes with a foreign key to users, a column with a constant "
                    "server_default, a new Enum column, a value added to ROLES",
           new_model('''
class Note(db.Model):
    __tablename__ = "notes"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    text = db.Column(db.String(200), nullable=False)
'''),
           in_user('status = db.Column(db.String(16), nullable=False, server_default="active")',
                   'kind = db.Column(db.Enum("person", "robot", name="user_kind"))'),
           ('ROLES = ("super_user", "admin", "user")',
            'ROLES = ("super_user", "admin", "user", "guest")')),
)

# The teams and the users of the BEFORE state, made by the database itself
# (every row valid: unique emails, a team that exists, a handle).
LOAD = {
    "postgresql": (
        "INSERT INTO teams (id, name) SELECT n, 'team ' || n FROM generate_series(1, {teams}) AS n",
        "INSERT INTO users (id, name, email, team_id, handle) SELECT n, 'user ' || n, "
        "'user-' || n || '@bench.invalid', 1 + MOD(n, {teams}), 'handle-' || n "
        "FROM generate_series(1, {rows}) AS n",
        # The rows were given their ids: the writers' inserts take the next.
        "SELECT setval(pg_get_serial_sequence('users', 'id'), {rows})",
        "SELECT setval(pg_get_serial_sequence('teams', 'id'), {teams})",
    ),
    "mysql": (
        "INSERT INTO teams (id, name) SELECT seq, CONCAT('team ', seq) FROM seq_1_to_{teams}",
        "INSERT INTO users (id, name, email, team_id, handle) SELECT seq, CONCAT('user ', seq), "
        "CONCAT('user-', seq, '@bench.invalid'), 1 + MOD(seq, {teams}), CONCAT('handle-', seq) "
        "FROM seq_1_to_{rows}",
    ),
}
# A table in production has been vacuumed and analysed; a fresh load has
# not, and the first scan of the change would pay for it (PostgreSQL writes
# hint bits as it reads).
SETTLE_TABLES = {"postgresql": "VACUUM ANALYZE", "mysql": "ANALYZE TABLE"}
INSERT = "INSERT INTO users (name, email, team_id, handle) VALUES (%s, %s, %s, %s)"
UPDATE = "UPDATE users SET name = %s WHERE id = %s"
OPERATION = re.compile(r"\b(?:op|batch_op)\.(\w+)\(")
NOT_OPERATIONS = {"get_bind", "get_context", "batch_alter_table", "f", "execute_if"}


SIDES = ("ours", "plain")


def edit(path, edits):
    """Apply `edits` [(old text, new text)] to the file at `path`, each once."""
    text = path.read_text()
    for old, new in edits:
        if old not in text:
            raise RuntimeError("{} has no {!r} to replace".format(path, old))
        text = text.replace(old, new, 1)
    write_source(path, text)


def write_source(path, text):
    """Write a module's source and drop its bytecode: a change that keeps
    the file's size (String(128) to String(200)), written within the second
    its bytecode was, would otherwise run the old code."""
    path.write_text(text)
    for cached in (path.parent / "__pycache__").glob(path.stem + ".*.pyc"):
        cached.unlink()


# --- the two sides ---------------------------------------------------------

@contextmanager
def side_copy(side):
    """A project copy for `side`: "ours" as it is; "plain" with Flask-Migrate's
    own env.py, script template and alembic.ini, and its Migrate."""
    with project_copy() as root:
        if side == "plain":
            migrations = root / "migrations"
            for path in migrations.iterdir():
                if path.is_file():
                    path.unlink()
            template = Path(flask_migrate.__file__).parent / "templates" / "flask"
            for path in template.iterdir():
                if path.is_file():
                    shutil.copy(path, migrations / path.name)
            (migrations / "alembic.ini.mako").rename(migrations / "alembic.ini")
            edit(root / "app" / "extensions.py", (
                ("from .migrating import Migrate", "from flask_migrate import Migrate"),
                ("migrate = Migrate()",
                 "migrate = Migrate(compare_type=True, render_as_batch=True)")))
        yield root


@contextmanager
def before_state(backend, side, folder, before=BEFORE):
    """The project copy of `side` at the state the changes start from
    (`before`: the edits of its models) for `backend`, and the revision of
    that state written by its own `db migrate` against an empty database at
    the committed head."""
    with side_copy(side) as root:
        edit(root / "app" / "models.py", before)
        with backend.database(folder) as url:
            env = environment(url)
            run(manage(root, "db", "upgrade"), root, env)
            run(manage(root, "db", "migrate", "-m", "bench before"), root, env)
        yield root


# --- databases -------------------------------------------------------------

@contextmanager
def loaded_database(backend, root, rows, folder, load=LOAD, tables=("users",)):
    """A database at the before state of the copy at `root`, filled by the
    `load` statements of `backend` (`rows` users, TEAMS teams, a note per
    ten users where there are notes), its `tables` analyzed; its URL. The
    changes run on copies of it."""
    with backend.database(folder) as url:
        run(manage(root, "db", "upgrade"), root, environment(url))
        execute_sql(url, *(statement.format(rows=rows, teams=TEAMS, notes=max(1, rows // 10))
                           for statement in load[backend.name]))
        for table in tables:
            on_database(url, "{} {}".format(SETTLE_TABLES[backend.name], table))
        yield url


@contextmanager
def copy_of(backend, template_url):
    """A new database holding what the database at `template_url` holds;
    its URL. PostgreSQL copies it as a template (nothing may be connected
    to it); MariaDB has no templates, so each table is copied."""
    template = make_url(template_url)
    url = template.set(database="bench_" + uuid.uuid4().hex[:10])
    if backend.name == "postgresql":
        on_database(SERVER_URLS["postgresql"], 'CREATE DATABASE "{}" TEMPLATE "{}"'.format(
            url.database, template.database))
    else:
        create_database(url)
    try:
        copy_url = url.render_as_string(hide_password=False)
        if backend.name == "mysql":
            tables = on_database(template_url, "SHOW TABLES")
            execute_sql(copy_url, *(statement.format(table=table, template=template.database)
                                    for table in tables for statement in (
                                        "CREATE TABLE `{table}` LIKE `{template}`.`{table}`",
                                        "INSERT INTO `{table}` SELECT * FROM "
                                        "`{template}`.`{table}`")))
        yield copy_url
    finally:
        drop_database(url)


def on_database(url, statement):
    """Run one statement outside a transaction (VACUUM and CREATE DATABASE
    refuse one); the first column of what it returns."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.exec_driver_sql(statement)
            return result.scalars().all() if result.returns_rows else []
    finally:
        engine.dispose()


def count_users(url):
    """How many rows the users table holds."""
    return on_database(url, "SELECT COUNT(*) FROM users")[0]


# --- the writers -----------------------------------------------------------

class Write:
    """One write: insert or update, when it started and ended
    (time.perf_counter), and its error's first line, or None."""

    __slots__ = ("kind", "started", "ended", "error")

    def __init__(self, kind, started, ended, error):
        self.kind, self.started, self.ended, self.error = kind, started, ended, error

    @property
    def seconds(self):
        return self.ended - self.started


class Writer(threading.Thread):
    """A client of the app: on its own autocommit connection, an INSERT of a
    new user and an UPDATE of a random one in turn, one write every INTERVAL
    seconds (or at once after a write that took longer), each timed. A
    failed write is recorded, and the next one reconnects."""

    def __init__(self, url, number, rows):
        super().__init__(name="writer {}".format(number), daemon=True)
        self.url, self.number, self.rows = url, number, rows
        self.writes = []
        self.session = None  # the server's id of its connection, once connected
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.chance = random.Random(number)

    def run(self):
        connection, count, due = None, 0, time.perf_counter()
        while not self.stopping.is_set():
            kind, statement, parameters = self.next_write(count)
            started, error = time.perf_counter(), None
            try:
                if connection is None:
                    connection = self.connect()
                    started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(statement, parameters)
            except Exception as failure:  # any failure of a write is a figure
                error = (str(failure).strip().splitlines() or [type(failure).__name__])[0]
                connection = close(connection)
            self.writes.append(Write(kind, started, time.perf_counter(), error))
            count += 1
            due = max(due + INTERVAL, time.perf_counter())
            time.sleep(max(0.0, due - time.perf_counter()))
        close(connection)

    def connect(self):
        connection = driver_connection(self.url, autocommit=True)
        with connection.cursor() as cursor:
            cursor.execute(SESSION_ID[make_url(self.url).get_backend_name()])
            self.session = cursor.fetchone()[0]
        self.connected.set()
        return connection

    def next_write(self, count):
        """(kind, statement, parameters) of this writer's write number `count`."""
        if count % 2 == 0:
            key = "w{}-{}".format(self.number, count)
            return "insert", INSERT, ("writer " + key, key + "@bench.invalid",
                                      1 + count % TEAMS, "handle-" + key)
        return "update", UPDATE, ("renamed {}".format(count), self.chance.randint(1, self.rows))


def close(connection):
    """Close a driver connection that may be broken already; None."""
    if connection is not None:
        try:
            connection.close()
        except Exception:  # a broken connection may refuse even to close
            pass
    return None


class LockWatch(threading.Thread):
    """Asks the server, every WATCH_INTERVAL seconds, whether one of
    `writers` waits for a lock; keeps (time, waiting) samples, and on
    PostgreSQL a count of the other waits seen."""

    def __init__(self, url, writers):
        super().__init__(name="lock watch", daemon=True)
        self.url, self.writers = url, writers
        self.backend = make_url(url).get_backend_name()
        self.samples = []
        self.other_waits = {}
        self.failed_samples = 0
        self.stopping = threading.Event()

    def run(self):
        for writer in self.writers:
            writer.connected.wait(timeout=30)
        connection = None
        try:
            while not self.stopping.is_set():
                ids = ", ".join(str(writer.session) for writer in self.writers)
                try:
                    if connection is None:
                        connection = driver_connection(self.url, autocommit=True)
                    with connection.cursor() as cursor:
                        cursor.execute(LOCK_WAITING[self.backend].format(ids=ids))
                        self.samples.append((time.perf_counter(), cursor.fetchone()[0] > 0))
                        if self.backend == "postgresql":
                            cursor.execute(WAITING_FOR.format(ids=ids))
                            for (wait,) in cursor.fetchall():
                                if not wait.startswith("Lock:"):
                                    self.other_waits[wait] = self.other_waits.get(wait, 0) + 1
                except Exception:  # a failed sample (MariaDB's information_schema
                    # temporary table, say) is a gap, not the watch's end
                    self.failed_samples += 1
                    connection = close(connection)
                time.sleep(WATCH_INTERVAL)
        finally:
            close(connection)

    def longest_wait(self, start, end):
        """The longest run of samples between `start` and `end` in which a
        writer waited for a lock, in seconds (0 when none did)."""
        longest, since, previous = 0.0, None, None
        for when, waiting in self.samples:
            if not start <= when <= end:
                continue
            if waiting and since is None:
                since = previous if previous is not None else when
            elif not waiting and since is not None:
                longest, since = max(longest, when - since), None
            previous = when
        if since is not None and previous is not None:
            longest = max(longest, previous - since)
        return longest


@contextmanager
def writing(url, rows, new_writer=Writer):
    """WRITERS writers (`new_writer(url, number, rows)`) writing to the
    database at `url` for the block, and a LockWatch on them; yields
    (writers, watch), stopped and joined after it."""
    writers = [new_writer(url, number, rows) for number in range(WRITERS)]
    for writer in writers:
        writer.start()
    watch = LockWatch(url, writers)
    watch.start()
    try:
        yield writers, watch
    finally:
        for thread in writers + [watch]:
            thread.stopping.set()
        for thread in writers + [watch]:
            thread.join()


# --- one change ------------------------------------------------------------

def measure_change(backend, root, template_url, rows, change):
    """The figures of `change` on the side whose copy is at `root`, on a
    copy of the database at `template_url` (`rows` users); the copy's
    models and versions/ are put back afterwards."""
    models = root / "app" / "models.py"
    versions = root / "migrations" / "versions"
    models_before, revisions_before = models.read_text(), set(versions.glob("*.py"))
    try:
        edit(models, change.edits)
        with copy_of(backend, template_url) as url:
            return upgrade_under_writes(root, url, rows, change, revisions_before)
    finally:
        write_source(models, models_before)
        for path in set(versions.glob("*.py")) - revisions_before:
            path.unlink()


def upgrade_under_writes(root, url, rows, change, revisions_before):
    """Migrate, lint, upgrade under the writers, check, down and up: the
    figures of one case (see the module's docstring)."""
    env = environment(url)
    migrate = run(manage(root, "db", "migrate", "-m", change.name), root, env, check=False)
    written = sorted(set((root / "migrations" / "versions").glob("*.py")) - revisions_before)
    if migrate.returncode != 0 or not written:
        return {"problem": "db migrate wrote no revision: " + what_failed(migrate)}
    figures = {"wrote": operations(written[0]),
               "lint": lint_verdict(run(manage(root, "db", "lint", "--json"), root, env,
                                        check=False))}
    with writing(url, rows) as (writers, watch):
        time.sleep(SETTLE)
        start = time.perf_counter()
        upgrade = run(manage(root, "db", "upgrade"), root, env, check=False)
        end = time.perf_counter()
        time.sleep(SETTLE)
    writes = [write for writer in writers for write in writer.writes]
    window = sorted(write.seconds for write in writes
                    if write.ended >= start and write.started <= end)
    failures = [write.error for write in writes if write.error]
    inserted = sum(write.kind == "insert" and not write.error for write in writes)
    figures.update({
        "upgrade_seconds": upgrade.seconds,
        "upgrade_error": None if upgrade.returncode == 0 else what_failed(upgrade),
        "writes": len(window),
        "longest_write": window[-1],
        "longest_lock_wait": watch.longest_wait(start, end),
        "other_waits": dict(sorted(watch.other_waits.items(), key=lambda item: -item[1])[:2]),
        "p99_write": window[math.ceil(len(window) * 0.99) - 1],
        "failed_writes": len(failures),
        "first_failure": failures[0] if failures else None,
        "rows_lost": rows + inserted - count_users(url),
        "check_clean": None, "down_up": None,
    })
    if upgrade.returncode == 0:
        figures["check_clean"] = run(manage(root, "db", "check"), root, env,
                                     check=False).returncode == 0
        figures["down_up"] = down_and_up(root, env)
    return figures


def down_and_up(root, env):
    """"ok" when `db downgrade -1` then `db upgrade` both succeed, else
    what failed first."""
    for args in (("downgrade", "-1"), ("upgrade",)):
        result = run(manage(root, "db", *args), root, env, check=False)
        if result.returncode != 0:
            return "db {}: {}".format(" ".join(args), what_failed(result))
    return "ok"


def lint_verdict(result):
    """{"exit", "errors": [rule], "warnings": [rule]} of a `db lint --json`
    run, or {"exit", "problem"} when it printed no JSON."""
    try:
        findings = json.loads(result.stdout)["findings"]
    except (ValueError, KeyError):
        return {"exit": result.returncode, "problem": what_failed(result)}
    return {"exit": result.returncode,
            "errors": sorted({f["rule"] for f in findings if f["level"] == "error"}),
            "warnings": sorted({f["rule"] for f in findings if f["level"] == "warning"})}


def operations(path):
    """The Alembic operations the upgrade() of the revision at `path`
    invokes, in order, each once: what db migrate wrote, in short."""
    text = path.read_text()
    upgrade = text[text.index("def upgrade("):text.index("def downgrade(")]
    names = []
    for name in OPERATION.findall(upgrade):
        if name not in NOT_OPERATIONS and name not in names:
            names.append(name)
    return names


def what_failed(result):
    """The line of a failed command that says what failed: its last error
    line (alembic's progress lines left out)."""
    lines = error_lines(result.stderr) or [line for line in result.stdout.splitlines()
                                           if line.strip()]
    return lines[-1] if lines else "exit code {}".format(result.returncode)


def measure(backends, sizes):
    """{backend: {rows: {change name: {"ours": figures, "plain": figures}}}}
    for PostgreSQL and MariaDB where they answer; each case's line is
    printed to stderr as it ends."""
    results = {}
    for backend in backends:
        if backend.name not in BACKENDS or backend.problem:
            continue
        results[backend.name] = {}
        with tempfile.TemporaryDirectory() as folder, ExitStack() as copies:
            roots = {side: copies.enter_context(before_state(backend, side, folder))
                     for side in SIDES}
            for rows in sizes:
                with ExitStack() as databases:
                    templates = {side: databases.enter_context(
                        loaded_database(backend, roots[side], rows, folder)) for side in SIDES}
                    by_change = results[backend.name][rows] = {}
                    for change in CHANGES:
                        by_change[change.name] = {}
                        for side in SIDES:
                            figures = measure_change(backend, roots[side], templates[side],
                                                     rows, change)
                            by_change[change.name][side] = figures
                            print("  {} {:,} rows, {}, {}: {}".format(
                                backend.name, rows, change.name, side, summary(figures)),
                                file=sys.stderr, flush=True)
        judge_lint(results[backend.name])
    return results


def judge_lint(sizes):
    """At the largest of `sizes` ({rows: {change: {side: figures}}}), set in
    each case's figures whether the change blocks writes ("blocks") and
    whether lint's verdict agrees ("lint_agrees"): an error exactly for the
    changes that block (see the module's docstring). Nothing with one size."""
    if len(sizes) < 2:
        return
    small, large = sizes[min(sizes)], sizes[max(sizes)]
    for change, by_side in large.items():
        for side, figures in by_side.items():
            before = small[change][side].get("longest_lock_wait")
            if before is None or "longest_lock_wait" not in figures \
                    or "exit" not in figures["lint"]:
                continue
            figures["blocks"] = figures["longest_write"] >= TARGET_SECONDS or grows(
                before, figures["longest_lock_wait"])
            figures["lint_agrees"] = (figures["lint"]["exit"] == 1) == figures["blocks"]


def grows(before, after):
    """Whether a longest write of `after` seconds on the larger table grew
    from `before` on the smaller: more than GROWTH times, and past
    NOISE_SECONDS, under which the longest of a few hundred writes varies by
    itself."""
    return after > max(GROWTH * before, NOISE_SECONDS)


def summary(figures):
    """One case's figures in a few words."""
    if "problem" in figures:
        return figures["problem"]
    return "longest write {:.3f} s, {} failed, upgrade {:.1f} s{}, lint exit {}".format(
        figures["longest_write"], figures["failed_writes"], figures["upgrade_seconds"],
        "" if figures["upgrade_error"] is None else " (failed)", figures["lint"]["exit"])


# --- reading the results ---------------------------------------------------

def cases(results, sides=SIDES):
    """Every case of `results` on `sides` (those measured: a quick run has
    no plain side): (backend, rows, change name, side, figures)."""
    for backend, sizes in results.items():
        for rows, changes in sizes.items():
            for change, by_side in changes.items():
                for side in sides:
                    if side in by_side:
                        yield backend, rows, change, side, by_side[side]


def grown(sizes, figure="longest_write"):
    """The changes whose `figure` (longest_write, longest_lock_wait) on our
    side grew from the smallest size to TARGET_ROWS: [(change name, seconds
    there, seconds at TARGET_ROWS)], growing as grows() says."""
    small, large = sizes[min(sizes)], sizes[TARGET_ROWS]
    found = []
    for change, by_side in large.items():
        before = small[change]["ours"].get(figure)
        after = by_side["ours"].get(figure)
        if before is not None and after is not None and grows(before, after):
            found.append((change, before, after))
    return found
