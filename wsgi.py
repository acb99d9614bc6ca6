"""The WSGI application (``gunicorn wsgi:app``) and the ``flask`` CLI (``FLASK_APP=wsgi``)."""
from correction.app import create_app
from correction.tools.cli import register as register_tools

app = create_app()
register_tools(app)  # command definitions only: a tool's code loads when its command runs
