"""The reference: a plain Alembic environment, as `alembic init` writes it,
with no Flask, run by `alembic -c <the benchmark's alembic.ini>` on the same
database and the same versions/ folder as manage.py."""
from alembic import context
from sqlalchemy import create_engine

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
