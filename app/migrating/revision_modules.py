"""Each revision file is imported once per command.

Every db command loads the whole history twice: first Flask-Migrate's
configure callback (errors.refuse_broken_revisions) loads it to stop on a
broken file, then the alembic command builds its own ScriptDirectory and
loads every file again: at 500 revisions, a quarter of a no-op `db upgrade`.
The callback hands the modules it loaded to the command's load instead: the
next load of each file takes the module already made, once, provided the
file did not change in between; any later load imports the file anew, as
alembic does.
"""
import os

from alembic import util

_HANDED_OVER = {}  # {path: ((mtime_ns, size), module)}
_ALEMBIC_LOAD = util.load_python_file


def hand_over(script):
    """Let the next load of each revision file of the ScriptDirectory
    `script` (whose revisions are loaded) take the module `script` holds."""
    for revision in script.walk_revisions():
        path = _key(revision.path)
        _HANDED_OVER[path] = (_version(path), revision.module)


def load_python_file(dir_, filename):
    """alembic.util.load_python_file, taking a module handed over."""
    path = _key(os.path.join(os.fspath(dir_), os.fspath(filename)))
    handed = _HANDED_OVER.pop(path, None)
    if handed is not None and handed[0] == _version(path):
        return handed[1]
    return _ALEMBIC_LOAD(dir_, filename)


def _key(path):
    return os.path.abspath(os.fspath(path))


def _version(path):
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


util.load_python_file = load_python_file
