"""The per-user change counter behind the notes sync cursor, shared by both sides."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared_models.models import User


def next_change_seq(session: Session, user_id: int) -> int:
    """Bump and return the user's notes counter; the row update serialises concurrent writers."""
    seq = session.execute(
        update(User)
        .where(User.id == user_id)
        .values(notes_seq=User.notes_seq + 1)
        .returning(User.notes_seq)
    ).scalar_one()
    return int(seq)
