"""`db upgrade` from revision 1 to head over a users table of many rows, on
each database, against its floor: the same DDL and DML statements sent
straight through the database driver, with no Alembic. Also the peak memory
of the upgrade process, and how often the email backfill reports progress."""
import pickle
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.measure import PYTHON, ROOT, environment, execute_sql, manage, median, project_copy, run

FIRST_REVISION = "12277d3c90ff"
TARGET_RATIO = 1.5
TARGET_ROWS = 10 ** 6
TARGET_MEMORY_MIB = 150
PROGRESS = re.compile(r"email backfill: (\d+)/(\d+) rows")
# Rows 1..N at revision 1 (id, name), made by the database itself.
LOAD = {
    "sqlite": "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq "
              "WHERE n < {n}) INSERT INTO users (id, name) SELECT n, 'user ' || n FROM seq",
    "postgresql": "INSERT INTO users (id, name) SELECT n, 'user ' || n "
                  "FROM generate_series(1, {n}) AS n",
    "mysql": "INSERT INTO users (id, name) SELECT seq, CONCAT('user ', seq) FROM seq_1_to_{n}",
}
# What the migrations send that is bookkeeping or reading the schema, not the
# schema change itself: left out of the floor.
NOT_THE_MIGRATION = re.compile(
    r"alembic_version|migration_log|pg_advisory|get_lock|release_lock|sqlite_master"
    r"|information_schema|pg_catalog|^\s*(pragma|show|set|select (?!.*\bfrom users\b))",
    re.IGNORECASE | re.DOTALL)


@contextmanager
def prepared_database(root, backend, folder, rows):
    """A database at revision 1 holding `rows` users; its URL."""
    with backend.database(folder) as url:
        run(manage(root, "db", "upgrade", FIRST_REVISION), root, environment(url))
        execute_sql(url, LOAD[backend.name].format(n=rows))
        yield url


def timed_upgrade(root, backend, folder, rows, record):
    """Upgrade to head while recording its statements and peak memory; (Run,
    the gaps between progress reports in seconds, how many reports)."""
    with prepared_database(root, backend, folder, rows) as url:
        result = run([PYTHON, str(ROOT / "bench" / "capture_sql.py"), str(record), "manage.py",
                      "db", "upgrade"], root, environment(url), stamp_lines=True)
    stamps = [when for when, line in result.lines if PROGRESS.search(line)]
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    return result, gaps, len(stamps)


def floor(root, backend, folder, rows, record):
    """Seconds to send the recorded migration statements through the driver."""
    statements = [entry for entry in pickle.loads(Path(record).read_bytes())["statements"]
                  if entry[0] == "commit" or not NOT_THE_MIGRATION.search(entry[1])]
    with prepared_database(root, backend, folder, rows) as url:
        connection = driver_connection(url)
        try:
            started = time.perf_counter()
            cursor = connection.cursor()
            for kind, statement, parameters in statements:
                if kind == "commit":
                    connection.commit()
                else:
                    cursor.execute(statement, parameters)
            connection.commit()
            return time.perf_counter() - started
        finally:
            connection.close()


def driver_connection(url, autocommit=False):
    """A connection of the database driver itself, without SQLAlchemy; with
    `autocommit`, each statement commits as it ends."""
    url = make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        import sqlite3

        return sqlite3.connect(url.database, isolation_level=None if autocommit else "")
    if backend == "postgresql":
        import psycopg2

        connection = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username,
                                      password=url.password or "", dbname=url.database)
        connection.autocommit = autocommit
        return connection
    import pymysql

    return pymysql.connect(host=url.host, port=url.port or 3306, user=url.username,
                           password=url.password or "", database=url.database,
                           autocommit=autocommit)


def measure(backends, sizes, runs):
    """{backend: {rows: {...medians...}}} for every backend that answers."""
    results = {}
    with project_copy() as root, tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            if backend.problem:
                continue
            results[backend.name] = {}
            for rows in sizes:
                upgrades, floors, memory, gaps, reports = [], [], [], [], []
                for _ in range(runs):
                    record = Path(folder) / "statements.pickle"
                    upgrade, run_gaps, count = timed_upgrade(root, backend, folder, rows, record)
                    upgrades.append(upgrade.seconds)
                    memory.append(pickle.loads(record.read_bytes())["peak_mib"])
                    gaps.extend(run_gaps)
                    reports.append(count)
                    floors.append(floor(root, backend, folder, rows, record))
                results[backend.name][rows] = {
                    "seconds": median(upgrades), "floor": median(floors),
                    "ratio": median(upgrades) / median(floors),
                    "max_rss_mib": max(memory),
                    "longest_progress_gap": max(gaps) if gaps else None,
                    "progress_reports": median(reports),
                }
    return results
