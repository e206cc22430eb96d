"""Sending the online operations' own SQL: compiled for the migration's
dialect, names quoted as it quotes them, and colons left alone."""
import sqlalchemy as sa


def execute(operations, statement):
    """Run (or, in a --sql script, write) the SQL text `statement`."""
    # text() would read a colon (a cast, a CHECK's string) as a parameter.
    operations.impl.execute(sa.text(statement.replace(":", "\\:")))


def compiled(operations, element):
    """The SQL of a schema element (AddConstraint, CreateIndex) for the dialect."""
    return str(element.compile(dialect=operations.migration_context.dialect))


def quote(operations, name):
    return operations.migration_context.dialect.identifier_preparer.quote(name)


def qualified(operations, name, schema=None):
    """A table or index name, quoted, with its schema when it has one."""
    quoted = quote(operations, name)
    return "{}.{}".format(quote(operations, schema), quoted) if schema else quoted
