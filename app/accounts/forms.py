"""The sign-in form (CSRF-protected like every form of the app)."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField


class SignInForm(FlaskForm):
    email = StringField("Email")
    password = PasswordField("Password")
    submit = SubmitField("Sign in")
