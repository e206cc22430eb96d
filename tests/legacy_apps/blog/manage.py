#!/usr/bin/env python
import os

from blog import create_app, db
from blog.models import Role, User
from flask_migrate import Migrate, MigrateCommand
from flask_script import Manager, Shell

app = create_app(os.getenv('BLOG_CONFIG') or 'default')
manager = Manager(app)
migrate = Migrate(app, db)


def make_shell_context():
    return dict(app=app, db=db, User=User, Role=Role)


manager.add_command("shell", Shell(make_context=make_shell_context))
manager.add_command('db', MigrateCommand)


@manager.command
def hello(name='world'):
    """Say hello."""
    print('hello, ' + name)


@manager.option('-r', '--role', dest='role', default='User', help='name of the role')
def add_role(role):
    """Add a role."""
    db.session.add(Role(name=role))
    db.session.commit()
    print('added role ' + role)


if __name__ == '__main__':
    manager.run()
