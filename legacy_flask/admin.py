"""The HTML blog admin, logged in with Flask's signed session cookie."""

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from legacy_flask.extensions import db
from legacy_flask.lookup import get_by_id
from legacy_flask.validation import is_text
from shared_models import Post, User
from shared_models.passwords import verify_password

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/login")
def login_form() -> ResponseReturnValue:
    return render_template("admin/login.html", error=None, username="")


@bp.post("/login")
def login() -> ResponseReturnValue:
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    user = (
        db.session.scalar(select(User).where(User.username == username))
        if username and is_text(username)
        else None
    )
    if user is None or not verify_password(user.password_hash, password):
        return render_template(
            "admin/login.html", error="Invalid username or password", username=username
        )
    session.clear()
    session["user_id"] = user.id
    return redirect(url_for(".dashboard"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for(".login_form"))


@bp.get("")
def dashboard() -> ResponseReturnValue:
    user_id = session.get("user_id")
    user = get_by_id(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        if "user_id" in session:  # a user deleted since login; clearing an empty session
            session.clear()  # would send a needless Set-Cookie
        return redirect(url_for(".login_form"))
    posts = db.session.scalars(
        select(Post)
        .where(Post.author_id == user.id)
        .order_by(Post.created_at.desc(), Post.id.desc())
    )
    return render_template("admin/dashboard.html", user=user, posts=list(posts))
