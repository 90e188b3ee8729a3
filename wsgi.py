"""Entry point: `python wsgi.py` serves on HOST:PORT; gunicorn loads `wsgi:app`."""

import os
import sys

_SERVING = __name__ == "__main__" or os.environ.get("WHATICKET_EVENTLET") == "1"
if _SERVING and "flask" not in os.path.basename(sys.argv[0]):
    # Monkey-patch before anything imports socket or threading. gunicorn's
    # eventlet worker patches by itself; the flask CLI (migrations, worker)
    # runs unpatched.
    import eventlet

    eventlet.monkey_patch()

from whaticket import create_app  # noqa: E402
from whaticket.extensions import socketio  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from whaticket.jobs import get_backend
    from whaticket.jobs.periodic import PERIODIC_JOBS

    with app.app_context():
        # Without Redis this process is also the worker: start its job thread
        # and the periodic sweeps.
        get_backend(app).start(PERIODIC_JOBS)
    if socketio.async_mode == "eventlet":
        import logging
        import socket

        import eventlet.wsgi

        listener = eventlet.listen((app.config["HOST"], app.config["PORT"]))
        # Accepted sockets inherit TCP_NODELAY: without it a response written in two
        # pieces waits for the client's delayed ACK (about 40 ms on keep-alive connections).
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Through logging (not bare stderr), so the redaction of password-reset paths
        # (whaticket/utils/logredact.py) applies to the access log too.
        eventlet.wsgi.server(
            listener,
            app,
            log=logging.getLogger("eventlet.wsgi"),
            log_output=bool(app.config.get("ACCESS_LOG")),
        )
    else:
        socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
