"""Helpers for the tests: a project copy driven through manage.py, and small
readers of HTML, stderr and the migration history."""
import atexit
import compileall
import io
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Variables of the caller's shell that would change what manage.py does.
APP_VARIABLES = ("DATABASE_URL", "FLASK_CONFIG", "SECRET_KEY", "PYTHONPATH", "FLASK_APP",
                 "ALEMBIC_CONFIG", "SQLALCHEMY_BINDS", "MIGRATION_LOCK_TIMEOUT",
                 "TABLE_LOCK_TIMEOUT", "SQUAWK") + tuple(
                     "DB_" + part for part in ("DRIVER", "USERNAME", "PASSWORD", "HOST",
                                               "PORT", "NAME"))


# What a copy of the project needs to run manage.py, flask and alembic.
PROJECT_FILES = ("manage.py", "alembic.ini", "app", "migrations")
# The raw alembic command of this Python's environment.
ALEMBIC = os.path.join(os.path.dirname(sys.executable), "alembic")


def copy_project(root):
    """Copy manage.py, app/ and migrations/ into the folder `root`, with the
    bytecode of their modules, as a project that has run once has it."""
    _copy_project_files(compiled_project(), root)


_COMPILED = []


def compiled_project():
    """A copy of the project's files with their bytecode, made once a
    process: otherwise, where PYTHONDONTWRITEBYTECODE is set, every command
    a test runs compiles app/ again (a tenth of a `db current`). The copies
    keep the files' times, so the bytecode stays valid for a file a test
    leaves as it is and is ignored for one it changes."""
    if not _COMPILED:
        template = Path(tempfile.mkdtemp(prefix="project-compiled-"))
        atexit.register(shutil.rmtree, str(template), True)
        _copy_project_files(PROJECT_ROOT, template, shutil.ignore_patterns("__pycache__"))
        compiled(template)
        _COMPILED.append(template)
    return _COMPILED[0]


def _copy_project_files(source_root, root, ignore=None):
    """PROJECT_FILES from `source_root` into `root`, with their times."""
    for name in PROJECT_FILES:
        source = source_root / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)


def compiled(root):
    """Write the bytecode of every module under `root`, as an app that has
    run once has it, even where PYTHONDONTWRITEBYTECODE is set: otherwise
    every command run there compiles the sources again (and a benchmark
    against a one-file app measures the compiler)."""
    if not compileall.compile_dir(str(root), quiet=1):
        raise RuntimeError("cannot compile the modules under {}".format(root))


def app_environment(database_url, extra=None):
    """This process's environment without the caller's app variables, with
    DATABASE_URL and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env["DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def assert_ok(result):
    """`result` (a CompletedProcess) exited 0 without a traceback; return it."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


class RunningServer:
    """A runserver started by Project.runserver: its base URL and process;
    once stopped, what it printed (stdout, stderr)."""

    def __init__(self, url, process):
        self.url, self.process = url, process
        self.stdout = self.stderr = None

    def wait(self, path="/healthz"):
        """(status, body) of the first answer to `path`, once it serves."""
        return wait_for_server(self.url + path, self.process)


# The child of Project.manage_on_terminal makes the pseudo-terminal its
# controlling terminal, as a login shell's is, so that getpass reads
# /dev/tty there (never the terminal the tests were started from), then
# runs manage.py.
TERMINAL_TRAMPOLINE = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                       "os.execv(sys.executable, [sys.executable] + sys.argv[1:])")


class Project:
    """A copy of the project in a temporary folder, driven through manage.py."""

    def __init__(self, root, database_url):
        self.root = root
        self.database_url = database_url

    def manage(self, *args, env=None, input=None, timeout=120):
        """Run `python manage.py *args`; return the CompletedProcess."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=str(self.root),
            env=self.environment(env),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    @contextmanager
    def runserver(self, env=None, stop_within=20):
        """`python manage.py runserver` on a free port for the block: yields
        a RunningServer, stopped after the block (within `stop_within` s)."""
        port = free_port()
        server = RunningServer("http://127.0.0.1:{}".format(port),
                               self.start("runserver", "-p", str(port), env=env))
        try:
            yield server
        finally:
            server.process.terminate()
            server.stdout, server.stderr = server.process.communicate(timeout=stop_within)

    def manage_on_terminal(self, *args, answers=(), env=None, timeout=120,
                           python=sys.executable):
        """Run `python manage.py *args` with a pseudo-terminal as stdin,
        stdout, stderr and controlling terminal (where getpass reads);
        `answers` [(prompt, reply)] answer the prompts in order, each once
        its prompt text is on the screen. Return (exit code, everything the
        terminal showed)."""
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [python, "-c", TERMINAL_TRAMPOLINE, "manage.py", *args], cwd=str(self.root),
            env=self.environment(dict({"TERM": "dumb"}, **(env or {}))),
            stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
            start_new_session=True)
        os.close(terminal)
        screen, pending, deadline = "", list(answers), time.monotonic() + timeout
        answered = 0  # the screen up to here has been answered
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([controller], [], [], 0.1)
                if ready:
                    try:
                        chunk = os.read(controller, 4096)
                    except OSError:  # the program ended and closed the terminal
                        break
                    if not chunk:
                        break
                    screen += chunk.decode(errors="replace").replace("\r\n", "\n")
                if pending and pending[0][0] in screen[answered:]:
                    os.write(controller, (pending.pop(0)[1] + "\n").encode())
                    answered = len(screen)
                if not ready and process.poll() is not None:
                    break
            else:
                raise AssertionError("no end after {} s; the terminal shows:\n{}".format(
                    timeout, screen))
        finally:
            os.close(controller)
            process.kill()
            process.wait()
        assert not pending, "never asked {!r}; the terminal shows:\n{}".format(
            pending[0][0], screen)
        return process.returncode, screen

    def flask(self, *args, env=None):
        """Run `python -m flask *args` (the Flask CLI) on the same app."""
        return subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=str(self.root),
            env=self.environment(dict({"FLASK_APP": "app"}, **(env or {}))),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def alembic(self, *args, env=None):
        """Run the raw `alembic *args` command from the project root, as the
        Alembic tutorials do."""
        return subprocess.run(
            [ALEMBIC, *args],
            cwd=str(self.root),
            env=self.environment(env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self, *args, env=None):
        """Start `python manage.py *args` in the background; return the Popen."""
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=str(self.root),
            env=self.environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def environment(self, extra=None):
        return app_environment(self.database_url, extra)

    @contextmanager
    def engine(self):
        engine = create_engine(self.database_url)
        try:
            yield engine
        finally:
            engine.dispose()

    def tables(self):
        with self.engine() as engine:
            return set(inspect(engine).get_table_names())

    def columns(self, table):
        with self.engine() as engine:
            return [column["name"] for column in inspect(engine).get_columns(table)]

    def version(self):
        """The revisions in alembic_version, or None without that table."""
        if "alembic_version" not in self.tables():
            return None
        with self.engine() as engine, engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return sorted(row[0] for row in rows)

    def add_to_model(self, line):
        """Append a line to the User model of this copy (a model change)."""
        models = self.root / "app" / "models.py"
        text = models.read_text()
        anchor = "    def to_dict(self):"
        models.write_text(text.replace(anchor, line + "\n\n" + anchor, 1))

    def edit_models(self, old, new):
        """Replace the text `old` of this copy's app/models.py by `new`."""
        models = self.root / "app" / "models.py"
        text = models.read_text()
        assert old in text, old
        models.write_text(text.replace(old, new, 1))

    def add_revision(self, revision, down_revision, upgrade, downgrade="pass"):
        """Write a revision file into migrations/versions of this copy; the
        bodies are Python statements using op, sa, os and time."""
        text = (
            '"""test revision {revision}"""\n'
            "import os\nimport time\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n"
            "revision = {revision!r}\ndown_revision = {down_revision!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            "def upgrade():\n{upgrade}\n\n\ndef downgrade():\n{downgrade}\n"
        ).format(revision=revision, down_revision=down_revision,
                 upgrade=_indent(upgrade), downgrade=_indent(downgrade))
        path = self.root / "migrations" / "versions" / "{}_test.py".format(revision)
        path.write_text(text)

    def unfinished(self):
        """The steps of the migration log that started and never finished:
        [(revision, direction)]."""
        return [(row["revision"], row["direction"]) for row in self.log()
                if row["finished_at"] is None]

    def log(self):
        """The rows of the migration log, oldest first, as dicts; [] without it."""
        if "migration_log" not in self.tables():
            return []
        with self.engine() as engine, engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT * FROM migration_log ORDER BY id")
            return [dict(row._mapping) for row in rows]

    def revision_files(self, directory="migrations"):
        return sorted(p.name for p in (self.root / directory / "versions").glob("*.py"))


def without_modules(folder, *names):
    """Environment variables under which Python cannot import `names` (as on
    Windows, which has no fcntl): a sitecustomize.py in `folder`, put on
    PYTHONPATH, refuses them."""
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n\n\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in {names!r}:\n"
        "            raise ModuleNotFoundError('No module named ' + repr(name), name=name)\n\n\n"
        "sys.meta_path.insert(0, Refuse())\n".format(names=set(names)))
    return {"PYTHONPATH": str(folder)}


def error_lines(stderr):
    """The lines of stderr that are not alembic's INFO progress lines."""
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith("INFO ")]


def committed_revisions():
    """The committed revisions, oldest first: [(id, message), ...]."""
    script = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    return [(rev.revision, rev.doc) for rev in reversed(list(script.walk_revisions()))]


def revision_id(path):
    """The id a revision file at `path` declares."""
    return re.search(r'^revision = ["\'](\w+)["\']', path.read_text(), re.M).group(1)


def csrf_token(html):
    """The CSRF token of the first form in `html`."""
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _indent(body):
    return "\n".join("    " + line for line in body.strip().splitlines())


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url, timeout=5):
    """(status, body) of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for_server(url, process, seconds=20, output=None):
    """Poll `url` until the server answers; fail if `process` exits first.
    `output` reads what the server has printed so far (its log file); without
    it, the stderr pipe is read, only once the server has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("server exited: " + (output or process.stderr.read)())
        try:
            return get(url, timeout=1)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("no answer from {} in {}s{}".format(
        url, seconds, ": " + output() if output else ""))


# How each server the tests start is launched, on a given port.
SERVER_COMMANDS = {
    "runserver": lambda port: [sys.executable, "manage.py", "runserver", "-p", str(port)],
    "gunicorn": lambda port: [sys.executable, "-m", "gunicorn", "--workers", "2",
                              "--bind", "127.0.0.1:{}".format(port), "app:create_app()"],
}


@contextmanager
def running_server(project, kind="runserver", env=None):
    """Serve `project` with `kind` (runserver or gunicorn) on a free port and
    yield its base URL; stop it afterwards. What the server prints goes to a
    log file beside the project, so a busy server never blocks on a pipe."""
    port = free_port()
    log_path = project.root.parent / "{}-{}.log".format(kind, port)
    with open(log_path, "w") as log:
        process = subprocess.Popen(SERVER_COMMANDS[kind](port), cwd=str(project.root),
                                   env=project.environment(env), stdout=log,
                                   stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:{}".format(port)
    try:
        wait_for_server(base + "/healthz", process, 30, output=log_path.read_text)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_chunked(app, path, body, content_type, cookie=None, authorization=None):
    """POST `body` to `app` in-process as a chunked request: no Content-Length
    and wsgi.input_terminated set, as gunicorn and runserver pass a chunked
    body on. (The test client would compute a Content-Length.) `cookie` and
    `authorization` are sent as those headers. Returns the status code."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path=path, method="POST", input_stream=io.BytesIO(body),
                             content_type=content_type).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    app_iter, status, _ = run_wsgi_app(app, environ)
    try:
        b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    return int(status.split()[0])
