"""gunicorn reads this file from the working directory: `make run` and deployments alike.

Rate limits are counted in ``CORRECTION_RATELIMIT_STORAGE_URI``. On ``memory://`` every worker
process counts alone, so with N workers each limit would really be N times the configured one:
such a server does not start (``correction.ratelimit.refuse_shared_workers_on_memory``).
"""
import os


def on_starting(server):
    from correction.config import Settings
    from correction.ratelimit import refuse_shared_workers_on_memory

    settings = Settings.from_env(os.environ)
    if settings.RATELIMIT_ENABLED:
        refuse_shared_workers_on_memory(server.cfg.workers, settings.RATELIMIT_STORAGE_URI)
