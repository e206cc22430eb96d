"""The HTML forms of the users page. They check the same rules as the API."""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import ValidationError

from ..models import ROLES
from .fields import CLEANERS, FieldError


def follows_field_rules(form, field):
    """A WTForms validator that applies fields.py's rule for this field."""
    try:
        field.data = CLEANERS[field.name](field.data or "")
    except FieldError as error:
        raise ValidationError(str(error)) from None


class AddUserForm(FlaskForm):
    name = StringField("Name", validators=[follows_field_rules])
    email = StringField("Email", validators=[follows_field_rules])
    role = SelectField(
        "Role", choices=list(ROLES), default="user",
        validators=[follows_field_rules],
    )
    submit = SubmitField("Add user")

    def cleaned_fields(self):
        return {name: self[name].data for name in CLEANERS}


class EditUserForm(AddUserForm):
    submit = SubmitField("Save")
