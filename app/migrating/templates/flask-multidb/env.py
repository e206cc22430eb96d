"""The Alembic environment of this multi-database repository: every
`python manage.py db ...` (and `flask db ...`) command runs this file.

The work is done by {package}.multidb, the migration safety net: one history
for the app's default database and each bind of SQLALCHEMY_BINDS.
"""
from {package}.multidb import run

run()
