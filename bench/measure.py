"""What every benchmark needs: running a command and timing it, copies of the
project, the benchmark's own Alembic configuration, and databases."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app.migrating.database import create_database, drop_database
from tests.legacy_apps.adopt import copy_app
from tests.support import app_environment, compiled, copy_project

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SERVER_URLS = {
    "postgresql": os.environ.get("BENCH_POSTGRESQL_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres",
    "mysql": os.environ.get("BENCH_MYSQL_URL") or "mysql+pymysql://root@127.0.0.1:3306/",
}


class Run:
    """One finished command: seconds of wall time, exit code, output."""

    def __init__(self, seconds, returncode, stdout, stderr, lines=()):
        self.seconds = seconds
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.lines = lines  # [(seconds since start, stderr line)]


@contextmanager
def tutorial_app():
    """The Flask-Migrate tutorial's one-file app (tests/legacy_apps/tutorial)
    with the repository `db init` gives it (Flask-Migrate's own template) and
    the project's versions/; on the modern stack its manage.py imports the
    Flask-Script fork under the name it expects, as any such app must."""
    with tempfile.TemporaryDirectory(prefix="bench-tutorial-") as folder:
        root = Path(folder) / "tutorial"
        copy_app("tutorial", root)
        template = Path(flask_migrate.__file__).parent / "templates" / "flask"
        shutil.copytree(template, root / "migrations",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (root / "migrations" / "alembic.ini.mako").rename(root / "migrations" / "alembic.ini")
        shutil.copytree(ROOT / "migrations" / "versions", root / "migrations" / "versions",
                        ignore=shutil.ignore_patterns("__pycache__"))
        manage = root / "manage.py"
        manage.write_text(FLASK_SCRIPT_FORK + manage.read_text())
        compiled(root)
        yield root


# What the tutorial's manage.py needs on the modern stack, which has only the
# fork of Flask-Script.
FLASK_SCRIPT_FORK = """try:
    import flask_script  # noqa: F401
except ImportError:
    import sys
    import flask_script_ng
    sys.modules["flask_script"] = flask_script_ng
"""


def run(args, cwd, env, check=True, stamp_lines=False):
    """Run `args` with no terminal to ask at (stdin empty); return a Run.
    With `stamp_lines`, stderr is read as it comes, each line stamped with
    its time."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, text=True,
                                   stderr=subprocess.PIPE if stamp_lines else err)
        lines = []
        if stamp_lines:
            for line in process.stderr:
                lines.append((time.perf_counter() - started, line.rstrip("\n")))
            process.stderr.close()
        process.wait()
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stderr = "\n".join(line for _, line in lines) if stamp_lines else err.read()
        result = Run(seconds, process.returncode, out.read(), stderr, lines)
    if check and result.returncode != 0:
        raise RuntimeError("{} exited {}: {}".format(" ".join(map(str, args)),
                                                     result.returncode, result.stderr[-2000:]))
    return result


def median(values):
    return statistics.median(values)


def environment(database_url, **extra):
    return app_environment(database_url, extra)


@contextmanager
def project_copy(versions=None):
    """A copy of manage.py, app/ and migrations/ in a temporary folder, with
    the benchmark's own alembic.ini beside it; `versions` replaces
    migrations/versions with generated revision files {name: text}."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        root = Path(folder)
        copy_project(root)
        if versions is not None:
            shutil.rmtree(root / "migrations" / "versions")
            (root / "migrations" / "versions").mkdir()
            for name, text in versions.items():
                (root / "migrations" / "versions" / name).write_text(text)
        shutil.copytree(ROOT / "bench" / "alembic_env", root / "alembic_env")
        compiled(root)
        yield root


def alembic_ini(root, database_url):
    """The benchmark's own alembic.ini, outside migrations/: a plain Alembic
    environment over the project's versions/ folder."""
    path = root / "alembic.ini"
    path.write_text(
        "[alembic]\nscript_location = {}\nversion_locations = {}\nsqlalchemy.url = {}\n".format(
            root / "alembic_env", root / "migrations" / "versions",
            database_url.replace("%", "%%")))
    return path


def manage(root, *args):
    return [PYTHON, "manage.py", *args]


def alembic(root, *args):
    return [str(BIN / "alembic"), "-c", str(root / "alembic.ini"), *args]


# --- databases -------------------------------------------------------------

class Backend:
    """A database server (or SQLite) to create fresh databases on."""

    def __init__(self, name):
        self.name = name
        self.problem = None
        self.version = None
        if name == "sqlite":
            import sqlite3

            self.version = "SQLite " + sqlite3.sqlite_version
            return
        engine = self._server_engine()
        try:
            with engine.connect() as connection:
                self.version = connection.exec_driver_sql("SELECT version()").scalar()
        except Exception as error:  # any failure: the server is not there
            self.problem = str(error).strip().splitlines()[0]
        finally:
            engine.dispose()

    def _server_engine(self):
        return create_engine(SERVER_URLS[self.name], isolation_level="AUTOCOMMIT",
                             connect_args={"connect_timeout": 5})

    @contextmanager
    def database(self, folder):
        """A fresh, empty database; its URL. Dropped afterwards."""
        if self.name == "sqlite":
            path = Path(folder) / "bench-{}.db".format(uuid.uuid4().hex[:8])
            try:
                yield "sqlite:///" + str(path)
            finally:
                for leftover in Path(folder).glob(path.name + "*"):
                    leftover.unlink()
            return
        url = make_url(SERVER_URLS[self.name]).set(database="bench_" + uuid.uuid4().hex[:10])
        create_database(url)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            drop_database(url)


def execute_sql(database_url, *statements):
    """Run statements on the database, committed."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
