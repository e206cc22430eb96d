"""The Alembic environment of this repository: every `python manage.py
db ...` (and `flask db ...`) command runs this file.

The work is done by __migrating_package__.env, the migration safety net: read it for
what happens (the lock, a transaction per revision, unfinished revisions,
logging, --sql).
"""
from __migrating_package__.env import run

run()
