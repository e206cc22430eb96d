"""MariaDB/MySQL: an Enum is a native ENUM('a', 'b') column type. Alembic
1.18 and later compare its values; the alembic pinned for Python 3.8 (1.14)
does not, so a value added to an Enum went unseen there. Here the values
are compared on every alembic; a difference becomes alter_column from the
database's ENUM to the model's, both ways.
"""
import sqlalchemy as sa

from .compare import register_type_comparison


def enable():
    register_type_comparison(compare_enum_values)


def compare_enum_values(autogen_context, alter_column_op, schema, table_name, column_name,
                        conn_col, metadata_col):
    """Alembic's column comparison: True when an ENUM's values differ."""
    old = getattr(conn_col.type, "enums", None)
    if autogen_context.dialect.name != "mysql" or old is None \
            or not isinstance(metadata_col.type, sa.Enum) \
            or list(old) == list(metadata_col.type.enums):
        return False
    alter_column_op.modify_type = metadata_col.type
    alter_column_op.existing_type = conn_col.type
    return True
