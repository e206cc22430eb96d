"""The HTML pages: / lists users (every signed-in role); admins and
super_users add, edit and delete them through forms.

CSRFProtect (app/extensions.py) checks the token of every form post, and
app/accounts/access.py the access mark of every view, before these views run.
"""
from flask import abort, current_app, flash, redirect, render_template, request, url_for

from ..accounts.access import CHANGE, READ, access, actor
from ..models import User
from . import users
from .forms import AddUserForm, EditUserForm
from .store import (
    MAX_ID,
    DuplicateEmail,
    create_user,
    delete_user,
    find_user,
    update_user,
    users_after,
    users_before,
)


@users.route("/", methods=["GET"])
@access(READ)
def index():
    return render_users_page(AddUserForm())


@users.route("/users", methods=["POST"])
@access(CHANGE)
def add_user():
    form = AddUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.cleaned_fields(), actor())
        except DuplicateEmail as error:
            form.email.errors.append(str(error))
        else:
            flash("Added {}.".format(user.name))
            return redirect(url_for(".index"))
    return render_users_page(form), 400


@users.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@access(CHANGE)
def edit_user(user_id):
    user = _user_or_404(user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            update_user(user, form.cleaned_fields(), actor())
        except DuplicateEmail as error:
            form.email.errors.append(str(error))
        else:
            flash("Saved {}.".format(user.name))
            return redirect(url_for(".index"))
        return render_template("users/edit.html", form=form, user=user), 400
    status = 400 if request.method == "POST" else 200
    return render_template("users/edit.html", form=form, user=user), status


@users.route("/users/<int:user_id>/delete", methods=["POST"])
@access(CHANGE)
def remove_user(user_id):
    user = _user_or_404(user_id)
    name = user.name
    delete_user(user, actor())
    flash("Deleted {}.".format(name))
    # Back to the same page: the one that starts after the same id.
    return redirect(url_for(".index", after=id_argument("after")))


def _user_or_404(user_id):
    user = find_user(min(user_id, MAX_ID))
    if user is None:
        abort(404)
    return user


class UsersPage:
    """One page of users in id order, found by key like the API's: the users
    after an id (?after=), or the page before an id (?before=). A deep page
    costs what the first does: no OFFSET skips the rows before it, and no
    count of all users is taken (it too would read every row)."""

    def __init__(self, per_page, after=None, before=None):
        if before is not None:
            rows = users_before(before, per_page + 1)
            if len(rows) > per_page:
                self.items = rows[per_page - 1::-1]
                self.has_prev = True
                self.has_next = True
                return
            after = None  # fewer than a page before it: that is the first page
        rows = users_after(after or 0, per_page + 1)
        if not rows and after:  # past the last user (deleted since): the first page
            after = None
            rows = users_after(0, per_page + 1)
        self.items = rows[:per_page]
        self.has_next = len(rows) > per_page
        self.has_prev = bool(after) and bool(self.items) and (
            User.query.filter(User.id <= after).first() is not None)

    @property
    def after(self):
        """The ?after= that shows this page again (None: the first page)."""
        return self.items[0].id - 1 if self.has_prev and self.items else None


def id_argument(name):
    """The ?<name>= id, held between 0 and MAX_ID; junk means none."""
    value = request.args.get(name, type=int)
    return None if value is None else min(max(value, 0), MAX_ID)


def render_users_page(form):
    users_page = UsersPage(current_app.config["USERS_PER_PAGE"],
                           after=id_argument("after"), before=id_argument("before"))
    return render_template("users/index.html", form=form, users=users_page)
