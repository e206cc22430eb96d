"""The Alembic environment of the app's migrations: every `python manage.py
db ...`, `flask db ...` and raw `alembic ...` command runs this file.

The work is done by app/migrating/env.py, the migration safety net: read it
for what happens (the lock, a transaction per revision, unfinished
revisions, logging, --sql).
"""
from app.migrating.env import run

run()
