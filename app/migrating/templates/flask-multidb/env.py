"""The Alembic environment of this multi-database repository: every
`python manage.py db ...` (and `flask db ...`) command runs this file.

The work is done by __migrating_package__.multidb, the migration safety net: one history
for the app's default database and each bind of SQLALCHEMY_BINDS.
"""
from __migrating_package__.multidb import run

run()
