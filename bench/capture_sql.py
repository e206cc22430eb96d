"""Run manage.py while recording every statement it sends to the database,
and its peak memory.

    python bench/capture_sql.py <record file> manage.py db upgrade

The big-table benchmark replays the statements of the migrations themselves
straight through the database driver, with no Alembic: that is its floor.
Recording costs one list append per statement.

The peak memory is VmHWM, read at exit: the process's own high-water mark
since exec. (wait4's ru_maxrss would count the benchmark's own memory, which
the child has for a moment between fork and exec.)
"""
import pickle
import runpy
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine

record = []


@event.listens_for(Engine, "before_cursor_execute")
def remember_statement(connection, cursor, statement, parameters, context, executemany):
    record.append(("execute", statement, parameters))


@event.listens_for(Engine, "commit")
def remember_commit(connection):
    record.append(("commit", None, None))


def main():
    target, script = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path.insert(0, ".")
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        with open(target, "wb") as f:
            pickle.dump({"statements": record, "peak_mib": peak_memory_mib()}, f)


def peak_memory_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


if __name__ == "__main__":
    main()
