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
"""
import ast
import hashlib

# Fields that say how the code is written, not what it does.
IGNORED_FIELDS = {"ctx", "kind", "type_comment", "type_ignores"}
WITH_DOCSTRINGS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Python 3.8 wraps subscripts in these; 3.9 dropped them.
SUBSCRIPT_WRAPPERS = tuple(getattr(ast, name) for name in ("Index",) if hasattr(ast, name))


def checksum_of_file(path):
    """The checksum of the revision file at `path` (64 hex digits)."""
    with open(path, "rb") as source:
        return checksum_of_source(source.read())


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
