"""Demo data for `make run`; running it again changes nothing."""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_models import Item, Note, Post, User, create_engine_for, get_settings, make_sessionmaker
from shared_models.notes_sync import next_change_seq
from shared_models.passwords import hash_password

DEMO_PASSWORD = "correct horse"


def seed(session: Session) -> bool:
    """Insert the demo rows unless they are there; True when something was added."""
    if session.scalar(select(User).where(User.username == "alice")) is not None:
        return False
    password_hash = hash_password(DEMO_PASSWORD)
    alice = User(username="alice", email="alice@example.com", password_hash=password_hash)
    bob = User(username="bob", email="bob@example.com", password_hash=password_hash, age=42)
    session.add_all([alice, bob])
    session.flush()
    session.add_all(
        [
            Item(name="Widget", price=Decimal("9.99"), is_available=True, tags=["tools"]),
            Item(name="Gadget", price=Decimal("24.50"), is_available=True, tags=["tools", "new"]),
            Item(name="Gizmo", price=Decimal("5.00"), is_available=False, tags=[]),
            Post(author_id=alice.id, title="Hello blog", body="First post.", published=True),
            Post(author_id=alice.id, title="Draft ideas", body="Not yet.", published=False),
            Post(author_id=bob.id, title="Bob writes", body="Hi all.", published=True),
        ]
    )
    for title in ("Groceries", "Ideas"):
        seq = next_change_seq(session, alice.id)
        session.add(Note(owner_id=alice.id, title=title, body="", change_seq=seq))
    session.commit()
    return True


def main() -> None:
    settings = get_settings()
    engine = create_engine_for(settings.database_url)
    with make_sessionmaker(engine)() as session:
        added = seed(session)
    engine.dispose()
    print("seeded demo data" if added else "demo data already present")


if __name__ == "__main__":
    main()
