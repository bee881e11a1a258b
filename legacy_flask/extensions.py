"""The Flask-SQLAlchemy handle, bound to the shared models' metadata so they stay Flask-free."""

from flask_sqlalchemy import SQLAlchemy

from shared_models import Base

db = SQLAlchemy(metadata=Base.metadata)
