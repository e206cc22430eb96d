"""Who may change or delete whom, beyond the route's rule (access.py).

- admins and super_users change users; only a super_user makes, changes or
  deletes a super_user;
- nobody changes their own role or deletes their own account here (another
  admin can), so nobody locks themselves out by a slip;
- the last super_user is never deleted nor demoted: store.py checks it in
  the same transaction as the change, so two changes at once cannot both
  pass.

`actor` None is the operator of the server (manage.py's commands).
"""
SUPER_USER = "super_user"
CHANGERS = ("super_user", "admin")


class NotAllowed(Exception):
    """The change is not the actor's to make: a 403, saying why."""

    status = 403


class LastSuperUser(Exception):
    """The change would leave no super_user: a 409."""

    status = 409

    def __init__(self):
        super().__init__("this is the last super_user: make another super_user first")


def check_create(actor, fields):
    if actor is None:
        return
    _check_changer(actor)
    if fields.get("role") == SUPER_USER and actor.role != SUPER_USER:
        raise NotAllowed("only a super_user may make a super_user")


def check_update(actor, user, fields):
    if actor is None:
        return
    _check_changer(actor)
    _check_super_user_target(actor, user, "change")
    if fields.get("role") == SUPER_USER and actor.role != SUPER_USER:
        raise NotAllowed("only a super_user may make a super_user")
    if user.id == actor.id and fields.get("role", user.role) != user.role:
        raise NotAllowed("you cannot change your own role: another admin can")


def check_delete(actor, user):
    if actor is None:
        return
    _check_changer(actor)
    _check_super_user_target(actor, user, "delete")
    if user.id == actor.id:
        raise NotAllowed("you cannot delete your own account: another admin can")


def _check_changer(actor):
    if actor.role not in CHANGERS:
        raise NotAllowed("your role ({}) may read users, not change them".format(actor.role))


def _check_super_user_target(actor, user, verb):
    if user.role == SUPER_USER and actor.role != SUPER_USER:
        raise NotAllowed("only a super_user may {} a super_user".format(verb))


def may_edit(actor, user):
    """Whether the page should offer `actor` to edit `user`."""
    return _passes(check_update, actor, user, {})


def may_delete(actor, user):
    """Whether the page should offer `actor` to delete `user`."""
    return _passes(check_delete, actor, user)


def _passes(check, *args):
    try:
        check(*args)
    except NotAllowed:
        return False
    return True
