"""A WSGI app served on 127.0.0.1, a free port, from a daemon thread: the browser tests' live server
and the fake providers of the delivery tests."""
from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the test's own output says what happened
        pass


def serve(app, name: str = "loopback-server") -> tuple[BaseWSGIServer, threading.Thread, str]:
    """Start serving ``app``; the server, its thread and its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"
