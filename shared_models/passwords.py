"""Password hashing in werkzeug's format, which the legacy app already stored for every user."""

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str) -> str:
    """Hash a password the way the legacy app always has."""
    return generate_password_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against a stored hash."""
    return check_password_hash(password_hash, password)
