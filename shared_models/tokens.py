"""Bearer-token minting and lookup shared by both sides, so a token from one works on the other."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared_models.base import utcnow
from shared_models.models import ApiToken, User


def hash_token(token: str) -> str:
    """Digest stored in place of the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, ttl_seconds: int) -> tuple[str, ApiToken]:
    """Create a token for `user`; the caller commits. Returns the plaintext and its row."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(token),
        user=user,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    return token, row


def user_for_token(session: Session, token: str) -> User | None:
    """The user owning a live (unexpired, unrevoked) token, else None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row.user


def revoke_token(session: Session, token: str) -> None:
    """Revoke a token; the caller commits."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
