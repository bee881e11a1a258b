"""Bearer-token authentication for the JSON API, via the tokens both sides share."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import Response, g, jsonify, request
from flask.typing import ResponseReturnValue

from legacy_flask.extensions import db
from shared_models import User
from shared_models.tokens import user_for_token

P = ParamSpec("P")


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _unauthorized(message: str, challenge: str) -> tuple[Response, int, dict[str, str]]:
    return jsonify(error=message), 401, {"WWW-Authenticate": challenge}


def token_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Run `view` only for a live bearer token, with its owner in `g.current_user`."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if "Authorization" not in request.headers:
            return _unauthorized("Authentication required", "Bearer")
        token = bearer_token()
        user = user_for_token(db.session(), token) if token else None
        if user is None:
            return _unauthorized("Invalid token", 'Bearer error="invalid_token"')
        g.current_user = user
        g.current_token = token
        return view(*args, **kwargs)

    return wrapper


def current_token() -> str:
    """The bearer token `token_required` accepted for this request."""
    token: str = g.current_token
    return token


def current_user() -> User:
    """The user `token_required` authenticated for this request."""
    user: User = g.current_user
    return user


def optional_user() -> User | None:
    """The bearer's user when the token is live; anything else means an anonymous request."""
    token = bearer_token()
    return user_for_token(db.session(), token) if token else None
