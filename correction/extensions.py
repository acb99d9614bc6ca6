"""Extensions, created unbound here and bound to an app in ``create_app``."""
from __future__ import annotations

from flask_migrate import Migrate

from .database import db

migrate = Migrate()

__all__ = ["db", "migrate"]
