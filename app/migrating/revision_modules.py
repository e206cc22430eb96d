"""The history is loaded once per command.

Every db command would load the whole history twice: first Flask-Migrate's
configure callback (errors.refuse_broken_revisions) loads it to stop on a
broken file, then the alembic command builds its own ScriptDirectory from
the same Config, imports every file again and builds the revision map
again: at 500 revisions, a fifth of a no-op `db upgrade`. The callback hands
what it loaded over instead, once, provided no file changed in between:

- the ScriptDirectory itself, to the next ScriptDirectory.from_config of
  the same Config (the command's own);
- each file's module, to the next load of that file (a command that builds
  its ScriptDirectory from another Config, as `db check` hands its status's
  to alembic's check).

Anything loaded later is loaded anew, as alembic does; but the lint that
`db migrate` runs on the revision it writes (lint/new_revision.py) works
in the command's own ScriptDirectory (in_use), which holds the history
already.
"""
import os
import weakref

from alembic import util
from alembic.script import ScriptDirectory

_HANDED_OVER = {}  # {path: ((mtime_ns, size), module)}
_SCRIPTS = {}  # {id(config): (config, script, revisions, files)}
_IN_USE = {}  # {versions folder: (weak Config, weak ScriptDirectory)}, taken by the command
_ALEMBIC_LOAD = util.load_python_file
_ALEMBIC_FROM_CONFIG = ScriptDirectory.from_config.__func__


def hand_over(script, revisions=None, config=None):
    """Let the next load of each revision file of the ScriptDirectory
    `script` (whose revisions are loaded; `revisions` when they were just
    walked) take the module `script` holds, and with `config`, the next
    ScriptDirectory.from_config(config) take `script`."""
    revisions = list(script.walk_revisions()) if revisions is None else revisions
    files = _files(script, revisions)
    for revision in revisions:
        path = _key(revision.path)
        _HANDED_OVER[path] = (files[path], revision.module)
    if config is not None:
        _SCRIPTS[id(config)] = (config, script, revisions, files)


def load_python_file(dir_, filename):
    """alembic.util.load_python_file, taking a module handed over."""
    path = _key(os.path.join(os.fspath(dir_), os.fspath(filename)))
    handed = _HANDED_OVER.pop(path, None)
    if handed is not None and handed[0] == _version(path):
        return handed[1]
    return _ALEMBIC_LOAD(dir_, filename)


def from_config(cls, config):
    """ScriptDirectory.from_config, taking a ScriptDirectory handed over for
    `config` while its folders and files are as they were."""
    handed = _SCRIPTS.pop(id(config), None)
    if handed is not None and handed[0] is config and cls is ScriptDirectory:
        _, script, revisions, files = handed
        if _files(script, revisions) == files:
            for revision in revisions:
                _HANDED_OVER.pop(_key(revision.path), None)
            _IN_USE[_key(script.versions)] = (weakref.ref(config), weakref.ref(script))
            return script
    return _ALEMBIC_FROM_CONFIG(cls, config)


def in_use(folder):
    """(Config, ScriptDirectory) that the running command took over for the
    versions folder `folder`, or None."""
    references = _IN_USE.get(_key(folder))
    if references is None:
        return None
    config, script = (reference() for reference in references)
    return None if config is None or script is None else (config, script)


def _files(script, revisions):
    """What a change to the history changes: each revision file's version,
    and the version of each folder that holds one (a file added or taken
    away)."""
    paths = {_key(revision.path) for revision in revisions}
    folders = {os.path.dirname(path) for path in paths} | {_key(script.versions)}
    return {path: _version(path) for path in paths | folders}


def _key(path):
    return os.path.abspath(os.fspath(path))


def _version(path):
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


util.load_python_file = load_python_file
ScriptDirectory.from_config = classmethod(from_config)
