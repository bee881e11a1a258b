"""User sign-up and lookup."""

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from legacy_flask.errors import json_error
from legacy_flask.extensions import db
from legacy_flask.lookup import get_by_id
from legacy_flask.pagination import paginate, parse_page
from legacy_flask.serializers import user_to_dict
from legacy_flask.validation import is_blank, is_int, is_text, json_object
from shared_models import User
from shared_models.passwords import hash_password

bp = Blueprint("users", __name__, url_prefix="/api/users")

USERNAME_MAX = 80
AGE_MIN, AGE_MAX = 0, 150


def _taken_error(username: str, email: str) -> tuple[Response, int] | None:
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        return json_error("Username already exists", 400)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        return json_error("Email already registered", 400)
    return None


@bp.post("")
def create_user() -> ResponseReturnValue:
    data = json_object()
    if data is None:
        return json_error("No data provided", 400)
    username, email, password = data.get("username"), data.get("email"), data.get("password")
    if is_blank(username) or is_blank(email) or is_blank(password):
        return json_error("Missing required fields", 400)
    if not (is_text(username) and is_text(email) and is_text(password)):
        return json_error("Invalid field types", 400)
    if len(username) > USERNAME_MAX:
        return json_error("Username too long", 400)
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return json_error("Invalid email address", 400)
    age = data.get("age")
    if age is not None and not (is_int(age) and AGE_MIN <= age <= AGE_MAX):
        return json_error("Age must be an integer between 0 and 150", 400)
    if (taken := _taken_error(username, email)) is not None:
        return taken

    user = User(username=username, email=email, password_hash=hash_password(password), age=age)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # another request registered the same name or email meanwhile
        db.session.rollback()
        return _taken_error(username, email) or json_error("Username already exists", 400)
    return jsonify(user_to_dict(user)), 201, {"Location": url_for(".get_user", user_id=user.id)}


@bp.get("/<int:user_id>")
def get_user(user_id: int) -> ResponseReturnValue:
    user = get_by_id(User, user_id)
    if user is None:
        return json_error("User not found", 404)
    return jsonify(user_to_dict(user))


@bp.get("")
def list_users() -> ResponseReturnValue:
    page = parse_page(request.args)
    if page is None:
        return json_error("Invalid pagination parameters", 400)
    users, meta = paginate(select(User).order_by(User.id), page)
    return jsonify(users=[user_to_dict(user) for user in users], **meta)
