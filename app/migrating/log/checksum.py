"""A revision's checksum: what its code does, not how it is written.

The file is parsed, its docstrings (the module's, each function's and
class's) are dropped, and the syntax tree is written out in a canonical text
that sha256 hashes. So comments, docstrings (alembic's "Revision ID" header
among them), blank lines, line breaks, quotes and other formatting do not
change the checksum; any change to a statement or an expression does, in
upgrade(), downgrade() or anywhere else in the module.

The canonical text leaves out what differs between Python versions for the
same code (the 3.8 parser's Index and ExtSlice wrappers, empty fields,
type comments, string kinds), so a checksum recorded under Python 3.8 still
matches under 3.13.

Parsing is what costs (about 0.1 ms a file, 50 ms for 500 revisions), so
each folder's __pycache__ keeps the checksum of every file it has seen,
keyed by the sha256 of the file's bytes: a file whose bytes did not change
since it was last checked is read and hashed, not parsed. A changed byte is
a new key, so the cache cannot hide a change; a cache that cannot be read
or written is left aside. Under PYTHONDONTWRITEBYTECODE the cache is kept
only where a __pycache__ folder already is.
"""
import ast
import atexit
import hashlib
import json
import os
import sys

# Fields that say how the code is written, not what it does.
IGNORED_FIELDS = {"ctx", "kind", "type_comment", "type_ignores"}
WITH_DOCSTRINGS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Python 3.8 wraps subscripts in these; 3.9 dropped them.
SUBSCRIPT_WRAPPERS = tuple(getattr(ast, name) for name in ("Index",) if hasattr(ast, name))


# The cache file in each folder's __pycache__; the number goes up whenever
# the canonical text changes, so that old entries are not read.
CACHE_NAME = "revision-checksums-1.json"


def checksum_of_file(path):
    """The checksum of the revision file at `path` (64 hex digits), from its
    folder's cache when its bytes were seen before."""
    with open(path, "rb") as source:
        data = source.read()
    cache = _cache_of(os.path.dirname(os.path.abspath(path)))
    key = hashlib.sha256(data).hexdigest()
    checksum = cache.known.get(key)
    if checksum is None:
        checksum = checksum_of_source(data)
        cache.learn(key, checksum)
    return checksum


class FolderCache:
    """The checksums known for one folder's files: {sha256 of the bytes:
    checksum}, read from its __pycache__ once, written back at exit when
    something was learnt."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "__pycache__", CACHE_NAME)
        self.known = {}
        self.learnt = False
        try:
            with open(self.path, encoding="utf-8") as cache:
                known = json.load(cache)
            if isinstance(known, dict):
                self.known = {key: value for key, value in known.items()
                              if isinstance(value, str)}
        except (OSError, ValueError):
            pass

    def learn(self, key, checksum):
        if not self.learnt:
            atexit.register(self.save)
        self.learnt = True
        self.known[key] = checksum

    def save(self):
        """Write the cache (atomically: a reader sees the old one or the new
        one, and of two processes writing the last one wins, either being
        right); nothing happens when the folder cannot be written. Under
        PYTHONDONTWRITEBYTECODE, no __pycache__ is made for it (one that
        exists is used)."""
        folder = os.path.dirname(self.path)
        try:
            if not os.path.isdir(folder):
                if sys.dont_write_bytecode:
                    return
                os.mkdir(folder)  # not its parent: a folder removed since stays so
        except OSError:
            return
        temporary = "{}.{}.tmp".format(self.path, os.getpid())
        try:
            with open(temporary, "w", encoding="utf-8") as cache:
                json.dump(self.known, cache)
            os.replace(temporary, self.path)
        except OSError:
            if os.path.exists(temporary):
                os.unlink(temporary)
            return


_CACHES = {}


def _cache_of(folder):
    if folder not in _CACHES:
        _CACHES[folder] = FolderCache(folder)
    return _CACHES[folder]


def checksum_of_source(source):
    """The checksum of Python source code (str or bytes)."""
    parts = []
    _write(ast.parse(source), parts)
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


def _write(node, parts):
    if isinstance(node, SUBSCRIPT_WRAPPERS):
        _write(node.value, parts)
        return
    if isinstance(node, ast.AST) and type(node).__name__ == "ExtSlice":
        _write(ast.Tuple(elts=node.dims), parts)
        return
    if isinstance(node, ast.AST):
        parts.append(type(node).__name__)
        parts.append("(")
        for name in node._fields:
            if name in IGNORED_FIELDS:
                continue
            value = getattr(node, name, None)
            if name == "body" and isinstance(node, WITH_DOCSTRINGS):
                value = _without_docstring(value)
            if value is None or value == []:
                continue
            parts.append(name)
            parts.append("=")
            _write(value, parts)
            parts.append(",")
        parts.append(")")
    elif isinstance(node, list):
        parts.append("[")
        for item in node:
            _write(item, parts)
            parts.append(",")
        parts.append("]")
    else:
        parts.append(repr(node))


def _without_docstring(body):
    if body and isinstance(body[0], ast.Expr) and _is_string(body[0].value):
        return body[1:]
    return body


def _is_string(node):
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    return type(node).__name__ == "Str"  # Python 3.7's node for a string
