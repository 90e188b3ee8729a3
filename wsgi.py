"""Entry point: `python wsgi.py` serves on HOST:PORT; gunicorn loads `wsgi:app`."""

import errno
import os
import sys

_SERVING = __name__ == "__main__" or os.environ.get("WHATICKET_EVENTLET") == "1"
if _SERVING and "flask" not in os.path.basename(sys.argv[0]):
    # Monkey-patch before anything imports socket or threading. gunicorn's
    # eventlet worker patches by itself; the flask CLI (migrations, worker)
    # runs unpatched.
    import eventlet

    eventlet.monkey_patch()

from whaticket import create_app, startup  # noqa: E402
from whaticket.extensions import socketio  # noqa: E402

app = create_app()

if "flask" not in os.path.basename(sys.argv[0]):
    # The server (this file, gunicorn's wsgi:app) refuses to start on the seeded admin's
    # public password in production; the flask CLI must still run to change it.
    try:
        startup.check_admin_password(app)
    except RuntimeError as exc:
        if __name__ == "__main__":
            sys.exit(str(exc))
        raise


def _listen() -> object:
    """The listening socket, exclusively ours: a second server on the same port fails
    with "address in use" instead of splitting the traffic (eventlet's listen sets
    SO_REUSEPORT unless told not to)."""
    import eventlet

    host, port = app.config["HOST"], app.config["PORT"]
    try:
        return eventlet.listen((host, port), reuse_port=False)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        sys.exit(f"cannot listen on {host}:{port}: address in use (is another server running?)")


if __name__ == "__main__":
    from whaticket.jobs import get_backend
    from whaticket.jobs.periodic import PERIODIC_JOBS

    try:
        # Outside development, the public default secrets only on loopback (APP_ENV unset
        # is not development: `make run` sets it).
        startup.check_listen_address(app.config, os.environ.get("APP_ENV"))
    except RuntimeError as exc:
        sys.exit(str(exc))
    # Bind first: a second server on a taken port stops here, before starting any job.
    listener = _listen() if socketio.async_mode == "eventlet" else None
    with app.app_context():
        # Without Redis this process is also the worker: start its job thread
        # and the periodic sweeps.
        get_backend(app).start(PERIODIC_JOBS)
    if listener is not None:
        import socket

        from whaticket.ops import lifecycle, logs

        # Accepted sockets inherit TCP_NODELAY: without it a response written in two
        # pieces waits for the client's delayed ACK (about 40 ms on keep-alive connections).
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # eventlet's access lines go through logging (not bare stderr), so the redaction of
        # password-reset paths and credentials (whaticket/utils/logredact.py) applies to
        # them; in JSON the app writes its own (whaticket/ops/request_id.py) instead.
        # SIGTERM finishes the requests in flight first (whaticket/ops/lifecycle.py).
        lifecycle.serve(
            app,
            listener,
            log_output=bool(app.config.get("ACCESS_LOG")) and logs.log_format(app.config) == "text",
        )
    else:
        socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
