"""Writes during a release's two phases: changes the running release would
not survive, or that rewrite the table, made as a deploy makes them, on a
users table of many rows, on PostgreSQL and MariaDB, beside plain
Flask-Migrate.

The changes (CHANGES): users.id INTEGER to BIGINT (the primary key; on
PostgreSQL with its sequence, and a notes table whose foreign key points at
it), users.team_id INTEGER to BIGINT (an ordinary column: both servers
rewrite the whole table for it), the value `admin` removed from users.role
(no loaded row holds it), and users.name renamed to display_name.

Ours, as a deploy runs it: `db migrate` (at a pseudo-terminal for the
rename, answering yes and then the default, expand/contract), `db lint
--json`, then `db upgrade -x phase=pre-deploy` while two writers of the OLD
release write (an INSERT of a new user, an UPDATE of `name` of one of the
loaded users, in turn, each on its own autocommit connection); then the
deploy: the writers switch to the NEW release's SQL (`display_name` after
the rename, the same SQL otherwise); then `db upgrade -x
phase=post-deploy` while they write. Neither release writes the removed
enum value. Plain: the same app with Flask-Migrate's own env.py and
`Migrate(compare_type=True, render_as_batch=True)`, its `db migrate`'s
revision run by one `db upgrade` while the old release writes, then the
deploy. Where plain autogenerate writes nothing usable (it sees no enum
value removed on PostgreSQL; a rename is a drop and an add to it, which
loses the column), the reference is the usual hand-written one-step
revision: ALTER TYPE ... RENAME, CREATE TYPE, ALTER COLUMN ... TYPE USING;
op.alter_column(new_column_name=...).

Measured across both phases (the windows of the upgrades): the longest
write and the p99, failed writes of each release, the longest lock wait
(writes_during_upgrade.LockWatch), the upgrades' wall time; afterwards
rows lost (the loaded rows plus the inserts that succeeded, less the rows
the table holds) and values changed (a checksum of (id, name or
display_name, email, role) of the loaded rows the writers do not update,
taken before and after; each updated row checked against the last value
its one writer wrote), `db check`, and the way down: `db downgrade` once
per revision written, then `db upgrade` again, every row still there.

QUICK runs ours only, the four changes in one revision pair, on a small
table: that everything works, not how fast.
"""
import math
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack

from bench import writes_during_upgrade as writes
from bench.big_tables import driver_connection
from bench.measure import PYTHON, environment, manage, run
from bench.writes_during_upgrade import (
    SIDES,
    TEAMS,
    close,
    copy_of,
    count_users,
    edit,
    lint_verdict,
    new_model,
    on_database,
    operations,
    what_failed,
    write_source,
)

BACKENDS = writes.BACKENDS
TARGET_SECONDS = writes.TARGET_SECONDS
TARGET_ROWS = writes.TARGET_ROWS
RELEASES = ("old", "new")
# The loaded users whose name the writers update: every UPDATED_EVERY-th
# id, each one writer's only (so the last value it wrote is the row's).
UPDATED_EVERY = 10
# Seconds the writers write with no upgrade running, for the baseline.
IDLE_SECONDS = 10

# The state the changes start from: writes_during_upgrade's (teams,
# users.team_id, users.handle), and on PostgreSQL a notes table whose
# foreign key points at users.id. (MariaDB refuses to change the type of a
# column a foreign key points at, and our table copy refuses a table other
# tables' foreign keys reference: the key would be a refusal to measure.)
NOTE = '''
class Note(db.Model):
    __tablename__ = "notes"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    text = db.Column(db.String(200), nullable=False)
'''
BEFORE = {"postgresql": writes.BEFORE + (new_model(NOTE),), "mysql": writes.BEFORE}
LOAD = {
    "postgresql": writes.LOAD["postgresql"] + (
        "UPDATE users SET role = 'super_user' WHERE MOD(id, 100) = 1",
        "INSERT INTO notes (id, user_id, text) SELECT n, 1 + MOD(n * 7, {rows}), "
        "'note ' || n FROM generate_series(1, {notes}) AS n",
        "SELECT setval(pg_get_serial_sequence('notes', 'id'), {notes})",
    ),
    "mysql": writes.LOAD["mysql"] + (
        "UPDATE users SET role = 'super_user' WHERE MOD(id, 100) = 1",
    ),
}
# The tables analyzed once loaded.
TABLES = {"postgresql": ("users", "notes"), "mysql": ("users",)}

ID = "id = db.Column(db.Integer, primary_key=True)"
TEAM = "team_id = db.Column(db.Integer)"
ROLES = 'ROLES = ("super_user", "admin", "user")'
NAME = "name = db.Column(db.String(128), nullable=False)"


class Change:
    """A change of the models: a short name, what it is, its edits of
    app/models.py, whether it renames users.name, and the plain side's
    hand-written revision {backend: (upgrade body, downgrade body)} where
    plain autogenerate writes nothing usable."""

    def __init__(self, name, label, edits, renames=False, by_hand=None):
        self.name, self.label, self.edits = name, label, edits
        self.renames, self.by_hand = renames, by_hand or {}


PLAIN_RENAME = (
    "op.alter_column('users', 'name', new_column_name='display_name', "
    "existing_type=sa.String(length=128), existing_nullable=False)",
    "op.alter_column('users', 'display_name', new_column_name='name', "
    "existing_type=sa.String(length=128), existing_nullable=False)")


def plain_enum(values):
    """The usual hand-written change of a PostgreSQL enum's values: the
    type renamed, the new one made, the column cast to it (a rewrite of the
    table under its ACCESS EXCLUSIVE lock), the old type dropped."""
    return "\n    ".join("op.execute({!r})".format(statement) for statement in (
        "ALTER TYPE user_role RENAME TO user_role_old",
        "CREATE TYPE user_role AS ENUM ({})".format(", ".join(
            "'{}'".format(value) for value in values)),
        "ALTER TABLE users ALTER COLUMN role DROP DEFAULT",
        "ALTER TABLE users ALTER COLUMN role TYPE user_role USING role::text::user_role",
        "ALTER TABLE users ALTER COLUMN role SET DEFAULT 'user'",
        "DROP TYPE user_role_old"))


CHANGES = (
    Change("bigint id", "users.id INTEGER to BIGINT (the primary key; on PostgreSQL its "
                        "sequence too, and notes.user_id's foreign key points at it)",
           ((ID, ID.replace("Integer", "BigInteger")),)),
    Change("bigint column", "users.team_id INTEGER to BIGINT (filled; a rewrite of the table "
                            "on both servers)",
           ((TEAM, TEAM.replace("Integer", "BigInteger")),)),
    Change("enum value removed", "'admin' removed from users.role (no row holds it)",
           ((ROLES, 'ROLES = ("super_user", "user")'),),
           by_hand={"postgresql": (plain_enum(("super_user", "user")),
                                   plain_enum(("super_user", "admin", "user")))}),
    Change("rename", "users.name renamed to display_name; the old release writes name",
           ((NAME, NAME.replace("name = db.Column(", 'name = db.Column("display_name", ')),),
           renames=True,
           by_hand={"postgresql": PLAIN_RENAME, "mysql": PLAIN_RENAME}),
)
# QUICK: the four in one revision pair, ours only.
ALL = Change("all four", "the four changes above in one revision pair",
             tuple(edit_ for change in CHANGES for edit_ in change.edits), renames=True)

# The writers' SQL: {release: column of the user's name} per change.
INSERT = ("INSERT INTO users ({name}, email, team_id, handle, role) "
          "VALUES (%s, %s, %s, %s, %s)")
UPDATE = "UPDATE users SET {name} = %s WHERE id = %s"
WRITER_ROLES = ("user", "super_user")  # never the value removed
CHECKSUM = {
    "postgresql": "SELECT COUNT(*), SUM(('x' || LEFT(MD5(CONCAT_WS('|', id, email, role, "
                  "CASE WHEN MOD(id, {every}) <> 0 THEN {name} END)), 15))::bit(60)::bigint) "
                  "FROM users WHERE id <= {rows}",
    "mysql": "SELECT COUNT(*), SUM(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, email, role, "
             "IF(MOD(id, {every}) <> 0, {name}, NULL))), 15), 16, 10) AS UNSIGNED)) "
             "FROM users WHERE id <= {rows}",
}


# --- the writers of two releases ------------------------------------------------

class ReleaseWriter(writes.Writer):
    """writes_during_upgrade's writer, writing the SQL of the release it is
    told (`release`, switched at the deploy): its INSERT and UPDATE name the
    user's name column of that release. The UPDATE goes to loaded rows of
    its own (every UPDATED_EVERY-th id, one writer each); `updates` keeps
    (id, value) per write number, None for an insert."""

    def __init__(self, url, number, rows, names):
        super().__init__(url, number, rows)
        self.names = names  # {release: column}
        self.release = "old"
        self.releases = []  # per write number: the release that wrote it
        self.updates = []
        self.owned = max(1, rows // (UPDATED_EVERY * writes.WRITERS))

    def next_write(self, count):
        name = self.names[self.release]
        self.releases.append(self.release)
        if count % 2 == 0:
            key = "w{}-{}".format(self.number, count)
            self.updates.append(None)
            return "insert", INSERT.format(name=name), (
                "writer " + key, key + "@bench.invalid", 1 + count % TEAMS, "handle-" + key,
                WRITER_ROLES[count // 2 % 2])
        key = UPDATED_EVERY * (writes.WRITERS * self.chance.randrange(self.owned)
                               + self.number + 1)
        value = "renamed w{}-{}".format(self.number, count)
        self.updates.append((key, value))
        return "update", UPDATE.format(name=name), (value, key)


def writing(url, rows, names):
    """writes_during_upgrade.writing with ReleaseWriters of the columns
    `names` ({release: column})."""
    return writes.writing(url, rows, lambda url, number, rows: ReleaseWriter(
        url, number, rows, names))


def deploy(writers):
    for writer in writers:
        writer.release = "new"


# --- db migrate at a terminal ---------------------------------------------------

def migrate_at_terminal(root, env, message, timeout=180):
    """`db migrate -m message` with a pseudo-terminal: a rename confirmed
    (y), written the default way ([E/o]: empty). (returncode, screen)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([PYTHON, "manage.py", "db", "migrate", "-m", message],
                               cwd=str(root), env=dict(env, TERM="dumb"), stdin=terminal,
                               stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    screen, answered, deadline = "", 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk.decode(errors="replace").replace("\r\n", "\n")
            waiting = screen[answered:].rstrip(" ")
            if waiting.endswith("[y/N]") or waiting.endswith("[E/o]"):
                reply = "y" if waiting.endswith("[y/N]") and "Did you rename" in waiting else ""
                os.write(controller, (reply + "\n").encode())
                answered = len(screen)
            if not ready and process.poll() is not None:
                break
        else:
            screen += "\n(no end after {} s)".format(timeout)
    finally:
        os.close(controller)
        process.kill()
        process.wait()
    return process.returncode, screen


# --- the before state and the loaded database ----------------------------------

def before_state(backend, side, folder):
    return writes.before_state(backend, side, folder, BEFORE[backend.name])


def loaded_database(backend, root, rows, folder):
    return writes.loaded_database(backend, root, rows, folder, LOAD, TABLES[backend.name])


def name_column(url):
    """display_name when the users table has it, else name."""
    columns = on_database(url, "SELECT column_name FROM information_schema.columns WHERE "
                               "table_name = 'users' AND table_schema = {}".format(
                                   "current_schema()" if url.startswith("postgresql")
                                   else "DATABASE()"))
    return "display_name" if "display_name" in columns else "name"


def checksum(url, rows):
    """(count, checksum) of the loaded rows' (id, email, role, and the name
    of those no writer updates)."""
    backend = "postgresql" if url.startswith("postgresql") else "mysql"
    engine_rows = on_database_rows(url, CHECKSUM[backend].format(
        every=UPDATED_EVERY, name=name_column(url), rows=rows))
    return tuple(int(value or 0) for value in engine_rows[0])


def on_database_rows(url, statement):
    """Every row `statement` returns, as tuples."""
    connection = driver_connection(url, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall()
    finally:
        close(connection)


# --- one case -------------------------------------------------------------------

def measure_change(backend, side, root, template_url, rows, change):
    models = root / "app" / "models.py"
    versions = root / "migrations" / "versions"
    models_before, revisions_before = models.read_text(), set(versions.glob("*.py"))
    try:
        edit(models, change.edits)
        with copy_of(backend, template_url) as url:
            return in_phases(backend, side, root, url, rows, change, revisions_before)
    finally:
        write_source(models, models_before)
        for path in set(versions.glob("*.py")) - revisions_before:
            path.unlink()


def written_revisions(root, revisions_before):
    """The revision files written since `revisions_before`, the main line's
    first (a post-deploy revision depends on it)."""
    paths = set((root / "migrations" / "versions").glob("*.py")) - revisions_before
    return sorted(paths, key=lambda path: "post_deploy" in path.read_text())


def write_revision(backend, side, root, env, change, revisions_before):
    """The revision(s) of `change`: (paths, how, problem)."""
    by_hand = change.by_hand.get(backend.name) if side == "plain" else None
    if by_hand:
        result = run(manage(root, "db", "revision", "-m", change.name), root, env, check=False)
        paths = written_revisions(root, revisions_before)
        if result.returncode != 0 or len(paths) != 1:
            return [], "by hand", "db revision: " + what_failed(result)
        text = paths[0].read_text()
        for function, body in zip(("upgrade", "downgrade"), by_hand):
            text = re.sub(r"(def {}\(\):\n)    pass\n".format(function),
                          lambda match, body=body: match.group(1) + "    " + body + "\n",
                          text, count=1)
        write_source(paths[0], text)
        return paths, "by hand", None
    if change.renames and side == "ours":
        code, screen = migrate_at_terminal(root, env, change.name)
        paths = written_revisions(root, revisions_before)
        if code != 0 or not paths:
            return [], "db migrate", "db migrate at a terminal: " + (
                [line for line in screen.splitlines() if line.strip()] or ["no output"])[-1]
        return paths, "db migrate (terminal)", None
    result = run(manage(root, "db", "migrate", "-m", change.name), root, env, check=False)
    paths = written_revisions(root, revisions_before)
    if result.returncode != 0 or not paths:
        return [], "db migrate", "db migrate wrote no revision: " + what_failed(result)
    return paths, "db migrate", None


def in_phases(backend, side, root, url, rows, change, revisions_before):
    """Migrate, lint, the upgrade(s) under the writers of both releases,
    check, down and up: the figures of one case."""
    env = environment(url)
    paths, how, problem = write_revision(backend, side, root, env, change, revisions_before)
    if problem:
        return {"problem": problem}
    figures = {"wrote": [operations(path) for path in paths], "how": how,
               "lint": lint_verdict(run(manage(root, "db", "lint", "--json"), root, env,
                                        check=False))}
    two_phases = side == "ours"
    before = checksum(url, rows)
    names = {"old": "name", "new": "display_name" if change.renames else "name"}
    windows, upgrades = [], []
    with writing(url, rows, names) as (writers, watch):
        time.sleep(writes.SETTLE)
        phases = (("pre-deploy", "post-deploy") if two_phases else (None,))
        for number, phase in enumerate(phases):
            if number == 1:
                deploy(writers)
                time.sleep(writes.SETTLE)
            start = time.perf_counter()
            upgrade = run(manage(root, "db", "upgrade", *(("-x", "phase=" + phase)
                                                          if phase else ())),
                          root, env, check=False, stamp_lines=True)
            windows.append((start, time.perf_counter()))
            upgrades.append(upgrade)
            time.sleep(writes.SETTLE)
            if upgrade.returncode != 0:
                break
        if not two_phases:
            deploy(writers)
            time.sleep(writes.SETTLE)
    figures.update(write_figures(writers, watch, windows))
    figures["longest_during"] = during(writers, windows, upgrades,
                                       phases if two_phases else ("upgrade",))
    failed_upgrade = next((upgrade for upgrade in upgrades if upgrade.returncode != 0), None)
    figures.update({
        "upgrade_seconds": [upgrade.seconds for upgrade in upgrades],
        "upgrade_error": what_failed(failed_upgrade) if failed_upgrade else None,
        "check_clean": None, "down_up": None,
    })
    figures.update(lost(url, rows, writers, before))
    if failed_upgrade is None:
        figures["check_clean"] = run(manage(root, "db", "check"), root, env,
                                     check=False).returncode == 0
        figures["down_up"], figures["down_seconds"] = down_and_up(root, env, len(paths), url)
    return figures


def write_figures(writers, watch, windows):
    """The writes' figures over the upgrades' `windows` [(start, end)]."""
    def inside(write):
        return any(write.ended >= start and write.started <= end for start, end in windows)

    window = sorted(write.seconds for writer in writers for write in writer.writes
                    if inside(write))
    failed = {release: 0 for release in RELEASES}
    first = {}
    for writer in writers:
        for write, release in zip(writer.writes, writer.releases):
            if write.error:
                failed[release] += 1
                first.setdefault(release, write.error)
    return {
        "writes": len(window),
        "longest_write": window[-1] if window else 0.0,
        "p99_write": window[math.ceil(len(window) * 0.99) - 1] if window else 0.0,
        "longest_lock_wait": max(watch.longest_wait(start, end) for start, end in windows),
        "other_waits": dict(sorted(watch.other_waits.items(), key=lambda item: -item[1])[:2]),
        "failed_writes": failed,
        "first_failure": first,
        "lock_watch_gaps": watch.failed_samples,
    }


def during(writers, windows, upgrades, phases):
    """Where the longest write fell: its kind and release, the phase, the
    seconds from that upgrade's start, and the last line the upgrade had
    printed by then (what it was doing)."""
    found = max(((write, release) for writer in writers
                 for write, release in zip(writer.writes, writer.releases)
                 if any(write.ended >= start and write.started <= end
                        for start, end in windows)),
                key=lambda pair: pair[0].seconds, default=None)
    if found is None:
        return None
    write, release = found
    number = max([index for index, (start, _) in enumerate(windows)
                  if start <= write.ended] or [0])
    offset = write.started - windows[number][0]
    lines = [line for seconds_, line in upgrades[number].lines
             if seconds_ <= offset + write.seconds and line.strip()]
    return {"kind": write.kind, "release": release, "phase": phases[number],
            "offset": offset, "seconds": write.seconds, "error": write.error,
            "doing": lines[-1][:160] if lines else None}


def lost(url, rows, writers, before):
    """Rows lost, and values changed: the checksum of the loaded rows no
    writer updates, and each updated row against the last value written."""
    inserted = sum(write.kind == "insert" and not write.error
                   for writer in writers for write in writer.writes)
    expected, unsure = {}, set()
    for writer in writers:
        for write, update in zip(writer.writes, writer.updates):
            if update is None:
                continue
            if write.error:
                unsure.add(update[0])
            else:
                expected[update[0]] = update[1]
    for key in unsure:
        expected.pop(key, None)
    name = name_column(url)
    changed = 0
    keys = sorted(expected)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        held = dict(on_database_rows(url, "SELECT id, {} FROM users WHERE id IN ({})".format(
            name, ", ".join(map(str, chunk)))))
        changed += sum(held.get(key) != expected[key] for key in chunk)
    after = checksum(url, rows)
    return {"rows_lost": rows + inserted - count_users(url),
            "values_changed": changed + (after != before),
            "checksum_same": after == before, "updated_rows_checked": len(keys)}


def down_and_up(root, env, revisions, url):
    """("ok" or what failed, seconds): `db downgrade` once per revision
    written, then `db upgrade`; the table keeps its rows throughout."""
    started = time.perf_counter()
    count = count_users(url)
    for args in [("downgrade",)] * revisions + [("upgrade",)]:
        result = run(manage(root, "db", *args), root, env, check=False)
        if result.returncode != 0:
            return "db {}: {}".format(" ".join(args), what_failed(result)), None
        if count_users(url) != count:
            return "db {}: {} rows, not {}".format(" ".join(args), count_users(url), count), None
    return "ok", time.perf_counter() - started


# --- the section ----------------------------------------------------------------

def idle(backend, template_url, rows):
    """The writers' figures on a copy of the database at `template_url`
    for IDLE_SECONDS with no upgrade running: what this machine's load alone
    makes of the longest write, against which a change's is read."""
    with copy_of(backend, template_url) as url:
        with writing(url, rows, {"old": "name", "new": "name"}) as (writers, watch):
            time.sleep(writes.SETTLE)
            start = time.perf_counter()
            time.sleep(IDLE_SECONDS)
            end = time.perf_counter()
        return write_figures(writers, watch, [(start, end)])


def measure(backends, sizes, quick=False):
    """{"cases": {backend: {rows: {change name: {side: figures}}}}, "idle":
    {backend: {rows: figures}}}; QUICK: ours only, ALL in one case, no
    idle run."""
    changes, sides = ((ALL,), ("ours",)) if quick else (CHANGES, SIDES)
    results, idle_figures = {}, {}
    for backend in backends:
        if backend.name not in BACKENDS or backend.problem:
            continue
        results[backend.name] = {}
        idle_figures[backend.name] = {}
        with tempfile.TemporaryDirectory() as folder, ExitStack() as copies:
            roots = {side: copies.enter_context(before_state(backend, side, folder))
                     for side in sides}
            for rows in sizes:
                with ExitStack() as databases:
                    templates = {side: databases.enter_context(
                        loaded_database(backend, roots[side], rows, folder)) for side in sides}
                    if not quick:
                        idle_figures[backend.name][rows] = figures = idle(
                            backend, templates["ours"], rows)
                        print("  {} {:,} rows, no upgrade: longest write {:.3f} s (p99 "
                              "{:.3f}), lock wait {:.3f} s".format(
                                  backend.name, rows, figures["longest_write"],
                                  figures["p99_write"], figures["longest_lock_wait"]),
                              file=sys.stderr, flush=True)
                    by_change = results[backend.name][rows] = {}
                    for change in changes:
                        by_change[change.name] = {}
                        for side in sides:
                            figures = measure_change(backend, side, roots[side],
                                                     templates[side], rows, change)
                            by_change[change.name][side] = figures
                            print("  {} {:,} rows, {}, {}: {}".format(
                                backend.name, rows, change.name, side, summary(figures)),
                                file=sys.stderr, flush=True)
        judge_lint(results[backend.name])
    return {"cases": results, "idle": idle_figures}


def judge_lint(sizes):
    """writes_during_upgrade.judge_lint, where a change also breaks the app
    when a write of either release failed (a rename the old release still
    writes): lint is right when it says error exactly for the changes that
    block the writes or make them fail ("breaks")."""
    writes.judge_lint(sizes)
    if len(sizes) < 2:
        return
    for by_side in sizes[max(sizes)].values():
        for figures in by_side.values():
            if "blocks" in figures:
                figures["breaks"] = figures["blocks"] or sum(
                    figures["failed_writes"].values()) > 0
                figures["lint_agrees"] = (figures["lint"]["exit"] == 1) == figures["breaks"]


def summary(figures):
    if "problem" in figures:
        return figures["problem"]
    return ("longest write {:.3f} s (p99 {:.3f}), failed old {} new {}, lock wait {:.3f} s, "
            "upgrade {}{}, lost {} changed {}, check {}, down/up {}, lint exit {}").format(
        figures["longest_write"], figures["p99_write"], figures["failed_writes"]["old"],
        figures["failed_writes"]["new"], figures["longest_lock_wait"],
        " + ".join("{:.1f} s".format(s) for s in figures["upgrade_seconds"]),
        "" if figures["upgrade_error"] is None else " (failed: {})".format(
            figures["upgrade_error"]),
        figures["rows_lost"], figures["values_changed"], figures["check_clean"],
        figures["down_up"], figures["lint"]["exit"]) + (
        "; longest: {kind} ({release}) in {phase} at +{offset:.2f} s, doing: {doing}".format(
            **figures["longest_during"]) if figures.get("longest_during") else "")


