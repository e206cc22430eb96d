#!/usr/bin/env python
"""The command line of the app, as in the Flask-Migrate tutorials:

    python manage.py db upgrade      # and db init, migrate, downgrade, history, check, log, validate, lint...
    python manage.py runserver
    python manage.py shell
"""
# The app package comes first: it brings the migration safety net
# (app/migrating/), which makes `flask_script` work on every Python and on
# both stacks before flask_migrate looks for it.
from app import create_app, db
from app.migrating import Check, CreateDb, Lint, Log, RunServer, Validate
from app.models import User

from flask_migrate import MigrateCommand
from flask_script import Manager, Shell

app = create_app()
manager = Manager(app)


def make_shell_context():
    return dict(app=app, db=db, User=User)


MigrateCommand.add_command("check", Check())
MigrateCommand.add_command("createdb", CreateDb())
MigrateCommand.add_command("validate", Validate())
MigrateCommand.add_command("log", Log())
MigrateCommand.add_command("lint", Lint())
manager.add_command("db", MigrateCommand)
manager.add_command("runserver", RunServer())
manager.add_command("shell", Shell(make_context=make_shell_context))


if __name__ == "__main__":
    manager.run()
