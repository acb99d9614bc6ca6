"""WSGI entry point: ``gunicorn wsgi:app``."""
from correction import create_app

app = create_app()
