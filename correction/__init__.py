"""correction — the backend of a community-correction (社区矫正) supervision app.

The application is built by ``correction.app.create_app``; ``docs/design.md`` maps the packages.
"""
