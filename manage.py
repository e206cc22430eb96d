#!/usr/bin/env python
"""The command line of the app, as in the Flask-Migrate tutorials:

    python manage.py db upgrade      # and db init, migrate, downgrade, history, check, log,
                                     # validate, lint...
    python manage.py runserver
    python manage.py shell
    python manage.py create_user --email ada@example.com --name Ada --role super_user
"""
# The app package comes first: it brings the migration safety net
# (app/migrating/), which makes `flask_script` work on every Python and on
# both stacks before flask_migrate looks for it.
import sys

from app import create_app, db
from app.accounts import commands as accounts
from app.migrating import Check, CreateDb, Lint, Log, RunServer, Validate
from app.models import User

# isort: split
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


@manager.option("-e", "--email", required=True, help="the account's email")
@manager.option("-n", "--name", required=True, help="the name the page shows")
@manager.option("-r", "--role", default="user", help="super_user, admin or user")
def create_user(email, name, role):
    """Create an account; its password is asked twice (or read from stdin)."""
    user = accounts.create_account(email, name, role, accounts.read_new_password)
    print("Created {} ({}).".format(user.email, user.role))


@manager.option("-e", "--email", required=True, help="the account's email")
def set_password(email):
    """Set an account's password; its sessions end."""
    user = accounts.set_account_password(email, accounts.read_new_password)
    print("Set the password of {}.".format(user.email))


@manager.command
def list_users():
    """List the accounts."""
    print("\n".join(accounts.account_lines()))


@manager.option("-e", "--email", required=True, help="the account the token acts for")
@manager.option("-n", "--name", default="api", help="what the token is for")
@manager.option("-d", "--days", type=int, default=None, help="expire after this many days")
def create_token(email, name, days):
    """Create an API token; it is shown only now."""
    token, secret = accounts.new_token(email, name, days)
    print(secret)
    print("API token {} of {}, shown only now: keep it secret.".format(
        token.id, email), file=sys.stderr)


@manager.command
def list_tokens():
    """List the API tokens (never the tokens themselves)."""
    print("\n".join(accounts.token_lines()))


@manager.option("token_id", type=int, help="the token's id (list_tokens shows it)")
def revoke_token(token_id):
    """Revoke an API token."""
    accounts.revoke(token_id)
    print("Revoked API token {}.".format(token_id))


if __name__ == "__main__":
    manager.run()
