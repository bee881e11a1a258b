"""Bearer tokens: minted with HTTP Basic credentials, revoked with themselves; and the profile."""

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from legacy_flask.auth import current_token, current_user, token_required
from legacy_flask.extensions import db
from legacy_flask.serializers import user_to_dict
from legacy_flask.validation import is_text
from shared_models import User
from shared_models.passwords import verify_password
from shared_models.tokens import issue_token, revoke_token

bp = Blueprint("tokens", __name__)


def _user_for_basic_auth() -> User | None:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    if not is_text(auth.username):
        return None
    user = db.session.scalar(select(User).where(User.username == auth.username))
    if user is None or not verify_password(user.password_hash, auth.password):
        return None
    return user


@bp.post("/api/tokens")
def create_token() -> ResponseReturnValue:
    user = _user_for_basic_auth()
    if user is None:
        return jsonify(error="Invalid credentials"), 401, {"WWW-Authenticate": 'Basic realm="api"'}
    token, row = issue_token(db.session(), user, int(current_app.config["TOKEN_TTL_SECONDS"]))
    db.session.commit()
    return jsonify(expires_at=row.expires_at, token=token)


@bp.delete("/api/tokens")
@token_required
def delete_token() -> ResponseReturnValue:
    revoke_token(db.session(), current_token())
    db.session.commit()
    return Response(status=204)


@bp.get("/profile")
@token_required
def profile() -> ResponseReturnValue:
    return jsonify(user_to_dict(current_user()))
