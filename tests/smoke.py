"""The migration workflow on other Pythons: `make smoke`.

For each Python version asked for (SMOKE_PYTHONS, default the oldest and the
newest the project supports) and each stack that supports it, install the
stack into .venv-smoke/<stack>-<version> and run, in a copy of the project on
a fresh SQLite database: the committed history (db upgrade, db check, and
the raw `alembic current`; the checksums its migration log recorded must be
those this script's Python computes), then a new repository (db init, db migrate, db
upgrade, db check, db downgrade base), then what `db migrate` writes on
that Python's alembic for a model change (an enum value added, a column
renamed, answered at a pseudo-terminal) run up, checked, down and up; then
the account commands (create_user typed at a pseudo-terminal, the others
with stdin, a bad role in one line); then the online forms `db migrate`
writes on PostgreSQL and MariaDB (an index
and a unique column: op.create_index_online, op.create_unique_online; the
primary key made BIGINT: op.expand_column and, after the deploy,
op.contract_column on PostgreSQL), linted, run up phase by phase, checked,
down and up on a database of each server; then,
in a legacy Flask-Script app
that adopted app/migrating/ as docs/ADOPTING.md says (tests/legacy_apps/),
its own @manager.command and @manager.option commands and its history.

A Python that is not installed is reported and skipped; with
REQUIRE_ALL_PYTHONS=1 (.ci/run sets it) it is a failure. A database server
that does not answer (TEST_POSTGRESQL_URL, TEST_MYSQL_URL, the local ones by
default) is reported and skipped too; with REQUIRE_ALL_BACKENDS=1, a failure.

Standard library only: it runs on the Python that `make` finds, whatever the
stacks need.
"""
import hashlib
import importlib.util
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.legacy_apps.adopt import adopt, copy_app  # noqa: E402  (needs ROOT on the path)

# stack: (requirements file, oldest Python, newest Python)
STACKS = {
    "classic": ("requirements.txt", (3, 8), (3, 13)),
    "modern": ("requirements-modern.txt", (3, 10), (3, 13)),
}
DEFAULT_PYTHONS = "3.8 3.13"
PROJECT_FILES = ("manage.py", "alembic.ini", "app", "migrations")
# (database file, command, expected stdout or None): the committed history on
# one database, a new repository on another.
WORKFLOW = [
    ("history.db", ("manage.py", "db", "upgrade"), None),
    ("history.db", ("manage.py", "db", "check"), None),
    ("history.db", ("alembic", "current"), None),
    ("fresh.db", ("manage.py", "db", "init", "-d", "fresh"), None),
    ("fresh.db", ("manage.py", "db", "migrate", "-d", "fresh", "-m", "first"), None),
    ("fresh.db", ("manage.py", "db", "upgrade", "-d", "fresh"), None),
    ("fresh.db", ("manage.py", "db", "check", "-d", "fresh"), None),
    ("fresh.db", ("manage.py", "db", "downgrade", "-d", "fresh", "base"), None),
]
# A model change on the committed history's database, for db migrate to
# write: (text of app/models.py, its replacement).
MODEL_CHANGES = [
    ('ROLES = ("super_user", "admin", "user")', 'ROLES = ("super_user", "admin", "user", "guest")'),
    ('name = db.Column(db.String(128), nullable=False)',
     'name = db.Column("full_name", db.String(128), nullable=False)'),
]
RENAME_QUESTION = "Did you rename users.name to users.full_name"
# How long a command at the pseudo-terminal may take, questions answered.
TERMINAL_SECONDS = 300
ACCOUNT_PASSWORD = "smoke test password"
# (manage.py arguments, stdin, exit code, pattern of its stdout, or of its
# stderr when it fails) after create_user made root@example.com.
ACCOUNT_STEPS = [
    (("create_user", "-e", "ada@example.com", "-n", "Ada", "-r", "admin"),
     "another password\n", 0, re.compile(r"Created ada@example\.com \(admin\)\.\n\Z")),
    (("create_user", "-e", "bob@example.com", "-n", "Bob", "-r", "emperor"), "a password\n", 1,
     # (guest: MODEL_CHANGES added it)
     re.compile(r"error: unknown role 'emperor': use one of super_user, admin, user, guest\n\Z")),
    (("set_password", "-e", "ada@example.com"), "a new password\n", 0,
     re.compile(r"Set the password of ada@example\.com\.\n\Z")),
    (("create_token", "-e", "ada@example.com", "-d", "30"), None, 0, re.compile(r"ut_\S{43}\n\Z")),
    (("list_users",), None, 0, re.compile(
        r"ID +EMAIL +NAME +ROLE +PASSWORD +TOKENS\n1 +root@example\.com +Root +super_user +set +0\n"
        r"2 +ada@example\.com +Ada +admin +set +1\n\Z")),
    (("revoke_token", "1"), None, 0, re.compile(r"Revoked API token 1\.\n\Z")),
    (("list_tokens",), None, 0, re.compile(r"ID .*\n1 +ada@example\.com +api .* revoked\n\Z")),
]
# What then runs the revision db migrate wrote.
CHANGED_WORKFLOW = [
    ("history.db", ("manage.py", "db", "upgrade"), None),
    ("history.db", ("manage.py", "db", "check"), None),
    ("history.db", ("manage.py", "db", "downgrade", "-1"), None),
    ("history.db", ("manage.py", "db", "upgrade"), None),
    ("history.db", ("manage.py", "db", "check"), None),
]
# The servers the online forms run on: a database of each is made for the
# run (db createdb) and dropped after.
SERVERS = {
    "postgresql": os.environ.get("TEST_POSTGRESQL_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres",
    "mysql": os.environ.get("TEST_MYSQL_URL") or "mysql+pymysql://root@127.0.0.1:3306/",
}
ONLINE_CHANGES = [
    ('name = db.Column(db.String(128), nullable=False)',
     'name = db.Column(db.String(128), nullable=False, index=True)\n'
     '    nickname = db.Column(db.String(64), unique=True)'),
    ('id = db.Column(db.Integer, primary_key=True)',
     'id = db.Column(db.BigInteger, primary_key=True)'),
]
# What db migrate must write on each server.
ONLINE_FORMS = {
    "postgresql": ("op.create_index_online(", "op.create_unique_online(", "op.expand_column(",
                   "op.contract_column("),
    "mysql": ("op.create_index_online(", "op.create_unique_online("),
}
ONLINE_WORKFLOW = [
    (None, ("manage.py", "db", "lint"), None),
    (None, ("manage.py", "db", "upgrade", "-x", "phase=pre-deploy"), None),
    (None, ("manage.py", "db", "upgrade", "-x", "phase=post-deploy"), None),
    (None, ("manage.py", "db", "check"), None),
    (None, ("manage.py", "db", "downgrade", "-1"), None),
    (None, ("manage.py", "db", "upgrade"), None),
    (None, ("manage.py", "db", "check"), None),
]
# The same in the legacy app "blog" (tests/legacy_apps/blog), adopted.
LEGACY_WORKFLOW = [
    ("blog.db", ("manage.py", "hello"), "hello, world\n"),
    ("blog.db", ("manage.py", "hello", "--name", "Ann"), "hello, Ann\n"),
    ("blog.db", ("manage.py", "db", "upgrade"), None),
    ("blog.db", ("manage.py", "add_role", "-r", "Admin"), "added role Admin\n"),
    ("blog.db", ("manage.py", "db", "check"), None),
    ("blog.db", ("manage.py", "db", "downgrade", "base"), None),
]


def find_python(version):
    """The path of a working `python<version>`, from PATH or pyenv, or None."""
    candidates = [shutil.which("python" + version)]
    if shutil.which("pyenv"):
        prefix = subprocess.run(["pyenv", "prefix", version],
                                capture_output=True, text=True)
        if prefix.returncode == 0:
            candidates.append(os.path.join(prefix.stdout.strip(), "bin", "python"))
    for candidate in filter(None, candidates):
        answer = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                capture_output=True, text=True)
        if answer.returncode == 0 and answer.stdout.strip() == str(parse(version)):
            return candidate
    return None


def parse(version):
    return tuple(int(part) for part in version.split(".")[:2])


def prepared_venv(stack, version, python):
    """.venv-smoke/<stack>-<version> with the stack installed; reinstalled when
    the requirements file changes."""
    requirements = ROOT / STACKS[stack][0]
    venv = ROOT / ".venv-smoke" / "{}-{}".format(stack, version)
    stamp = venv / ".installed"
    digest = hashlib.sha256(b"".join(
        path.read_bytes() for path in requirement_files(requirements))).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "-r", str(requirements)], check=True)
    stamp.write_text(digest)
    return venv


def requirement_files(path):
    """`path` and the files its `-r` lines include, recursively."""
    files = [path]
    for line in path.read_text().splitlines():
        if line.startswith("-r "):
            files += requirement_files(ROOT / line[3:].strip())
    return files


def run_workflow(venv):
    """Run WORKFLOW in a copy of the project and LEGACY_WORKFLOW in an adopted
    legacy app; return None, or what failed."""
    with tempfile.TemporaryDirectory() as work:
        copy_project(work)
        online = os.path.join(work, "online")
        copy_project(online)
        legacy = os.path.join(work, "legacy")
        copy_app("blog", legacy)
        adopt(legacy, "blog.migrating")
        return (run_steps(venv, work, WORKFLOW)
                or checksums_differ(venv, work)
                or migrate_a_model_change(venv, work)
                or run_steps(venv, work, CHANGED_WORKFLOW)
                or manage_accounts(venv, work)
                or migrate_online(venv, online)
                or run_steps(venv, legacy, LEGACY_WORKFLOW))


def copy_project(folder):
    os.makedirs(folder, exist_ok=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, os.path.join(folder, name),
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder)


def migrate_online(venv, folder):
    """On a new database of each server: the committed history, then
    ONLINE_CHANGES, db migrate (which must write ONLINE_FORMS) and
    ONLINE_WORKFLOW; return None, or what failed. A server that does not
    answer is said and skipped (a failure under REQUIRE_ALL_BACKENDS=1)."""
    models = Path(folder) / "app" / "models.py"
    original = models.read_text()
    for backend, server in SERVERS.items():
        url = urlsplit(server)._replace(path="/smoke_" + uuid.uuid4().hex[:10]).geturl()
        created = run_steps(venv, folder, [(url, ("manage.py", "db", "createdb"), None)])
        if created is not None:
            if os.environ.get("REQUIRE_ALL_BACKENDS") == "1":
                return "{}: {}".format(backend, created)
            print("{} did not answer ({}): its online forms were not tried".format(
                backend, created))
            continue
        try:
            models.write_text(original)
            problem = run_steps(venv, folder, [(url, ("manage.py", "db", "upgrade"), None)])
            if problem is None:
                text = original
                for old, new in ONLINE_CHANGES:
                    text = text.replace(old, new)
                models.write_text(text)
                problem = (run_steps(venv, folder, [
                    (url, ("manage.py", "db", "migrate", "-m", "online"), None)])
                    or written_online(folder, backend)
                    or run_steps(venv, folder, [(url,) + step[1:] for step in ONLINE_WORKFLOW]))
        finally:
            drop(venv, folder, url)
            for script in Path(folder, "migrations", "versions").glob("*_online.py"):
                script.unlink()
        if problem is not None:
            return "{}: {}".format(backend, problem)
    return None


def written_online(folder, backend):
    """None when the revisions db migrate wrote (the one before the deploy,
    and on PostgreSQL the one after it) hold the backend's ONLINE_FORMS."""
    text = "".join(script.read_text() for script
                   in Path(folder, "migrations", "versions").glob("*_online.py"))
    missing = [form for form in ONLINE_FORMS[backend] if form not in text]
    return "db migrate wrote no {}".format(", ".join(missing)) if missing else None


def drop(venv, folder, url):
    subprocess.run([str(venv / "bin" / "python"), "-c",
                    "import sys; from app.migrating.database import drop_database; "
                    "drop_database(sys.argv[1])", url], cwd=folder, capture_output=True)


def migrate_a_model_change(venv, folder):
    """Make MODEL_CHANGES and run db migrate at a pseudo-terminal, saying yes
    to the rename; return None, or what failed."""
    models = Path(folder) / "app" / "models.py"
    text = models.read_text()
    for old, new in MODEL_CHANGES:
        text = text.replace(old, new, 1)  # User's, the first model
    models.write_text(text)
    code, shown, answered = at_terminal(venv, folder, ["db", "migrate", "-m", "changes"],
                                        [(RENAME_QUESTION, "y")])
    [script] = list(Path(folder, "migrations", "versions").glob("*_changes.py")) or [None]
    if code != 0 or "Traceback" in shown or answered != 1:
        return "db migrate at a terminal: " + (shown.strip().splitlines() or [""])[-1]
    if "new_column_name='full_name'" not in script.read_text() or "guest" not in script.read_text():
        return "db migrate wrote no rename or no enum value: " + script.name
    return None


def manage_accounts(venv, folder):
    """The account commands of manage.py (@manager.option, @manager.command)
    on the committed history's database: create_user at a pseudo-terminal,
    then ACCOUNT_STEPS; return None, or what failed."""
    code, shown, answered = at_terminal(
        venv, folder, ["create_user", "-e", "root@example.com", "-n", "Root", "-r", "super_user"],
        [("Password: ", ACCOUNT_PASSWORD), ("Repeat the password: ", ACCOUNT_PASSWORD)])
    if code != 0 or "Traceback" in shown or answered != 2:
        return "create_user at a terminal: " + (shown.strip().splitlines() or [""])[-1]
    if ACCOUNT_PASSWORD in shown:
        return "create_user showed the password it was typed"
    env = clean_environment()
    env["DATABASE_URL"] = "sqlite:///" + os.path.join(folder, "history.db")
    python = str(venv / "bin" / "python")
    for args, stdin, code, expected in ACCOUNT_STEPS:
        result = subprocess.run([python, "manage.py"] + list(args), cwd=folder, env=env,
                                input=stdin, capture_output=True, text=True)
        output = result.stdout if code == 0 else result.stderr
        if result.returncode != code or not expected.match(output):
            return "{} exited {} and printed {!r}".format(
                " ".join(args), result.returncode, result.stdout + result.stderr)
    return None


def at_terminal(venv, folder, args, answers):
    """Run `python manage.py args` on the committed history's database at a
    pseudo-terminal, typing each (prompt, reply) of `answers` in turn when
    its prompt shows; return its exit code, the screen, and how many
    replies it took."""
    env = clean_environment()
    env["DATABASE_URL"] = "sqlite:///" + os.path.join(folder, "history.db")
    argv = [str(venv / "bin" / "python"), "manage.py"] + list(args)
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, with the terminal as stdin and stdout
        os.chdir(folder)
        os.execve(argv[0], argv, env)
    screen, answered, seen = b"", 0, 0
    deadline = time.monotonic() + TERMINAL_SECONDS
    while True:
        if not select.select([terminal], [], [], max(0, deadline - time.monotonic()))[0]:
            os.kill(pid, signal.SIGKILL)  # waiting for an answer nobody gives
            screen += b"\n(no output for the rest of its time: killed)"
            break
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # it ended and closed the terminal
            break
        if not chunk:
            break
        screen += chunk
        if answered < len(answers):
            prompt, reply = answers[answered]
            found = screen.find(prompt.encode(), seen)
            if found >= 0:
                os.write(terminal, reply.encode() + b"\n")
                seen = found + len(prompt)
                answered += 1
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace"), answered


def checksums_differ(venv, folder):
    """None when the checksums this Python's `db upgrade` logged for the
    committed history are those the Python running this script computes for
    the same files (a checksum must not change with the Python version),
    else which differ."""
    env = dict(clean_environment(),
               DATABASE_URL="sqlite:///" + os.path.join(folder, "history.db"))
    result = subprocess.run([str(venv / "bin" / "python"), "manage.py", "db", "log", "--json"],
                            cwd=folder, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        return "db log --json exited {}: {}".format(result.returncode, result.stderr.strip())
    spec = importlib.util.spec_from_file_location(
        "checksum", str(ROOT / "app" / "migrating" / "log" / "checksum.py"))
    checksum = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checksum)
    versions = Path(folder) / "migrations" / "versions"
    for row in json.loads(result.stdout):
        [path] = versions.glob("*{}*.py".format(row["revision"]))
        if row["checksum"] != checksum.checksum_of_file(str(path)):
            return "the checksum of {} differs between Python {} and this one".format(
                path.name, venv.name.rsplit("-", 1)[-1])
    return None


def clean_environment():
    """This process's environment without what would change the app."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("DB_", "FLASK_", "SQLALCHEMY_", "ALEMBIC_"))
            and key not in ("DATABASE_URL", "PYTHONPATH")}


def run_steps(venv, folder, steps):
    """Run each (database, command, expected stdout or None) in `folder`: the
    database a SQLite file name there, or a URL."""
    env = clean_environment()
    for database, command, expected in steps:
        env["DATABASE_URL"] = database if "://" in database else \
            "sqlite:///" + os.path.join(folder, database)
        program, args = command[0], command[1:]
        argv = ([str(venv / "bin" / "python"), program] if program.endswith(".py")
                else [str(venv / "bin" / program)])
        result = subprocess.run(argv + list(args), cwd=folder, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0 or "Traceback" in result.stderr:
            return "{} exited {}: {}".format(
                " ".join(command), result.returncode,
                (result.stderr.strip().splitlines() or [""])[-1])
        if expected is not None and result.stdout != expected:
            return "{} printed {!r}, not {!r}".format(" ".join(command), result.stdout, expected)
    return None


def main():
    versions = (os.environ.get("SMOKE_PYTHONS") or DEFAULT_PYTHONS).split()
    strict = os.environ.get("REQUIRE_ALL_PYTHONS") == "1"
    failures = 0
    for version in versions:
        python = find_python(version)
        if python is None:
            print("Python {}: not installed, smoke test skipped (install it, e.g. "
                  "`pyenv install {}`)".format(version, version))
            failures += strict
            continue
        for stack, (_, oldest, newest) in STACKS.items():
            if not oldest <= parse(version) <= newest:
                print("Python {} / {} stack: not supported (it needs Python {} to {}), "
                      "skipped".format(version, stack, "{}.{}".format(*oldest),
                                      "{}.{}".format(*newest)))
                continue
            started = time.monotonic()
            problem = run_workflow(prepared_venv(stack, version, python))
            print("Python {} / {} stack: {} ({:.0f}s)".format(
                version, stack, "FAILED: " + problem if problem else "ok",
                time.monotonic() - started))
            failures += problem is not None
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
