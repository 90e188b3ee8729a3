"""A local SMTP server that captures mail (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Self

import pytest


@dataclass
class Captured:
    """One mail the server accepted."""

    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage

    def text(self) -> str:
        """The plain-text body."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class SmtpCapture:
    """Accepts every mail on 127.0.0.1 and keeps it in `mails`."""

    def __init__(self) -> None:
        self.mails: list[Captured] = []
        self._lock = threading.Lock()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The listening port."""
        return int(self._server.server_address[1])

    def start(self) -> Self:
        """Serve on a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down and free the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _handler(self) -> type[socketserver.StreamRequestHandler]:
        capture = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 localhost SMTP capture")
                mail_from, rcpts = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode(errors="replace").rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.reply("250-localhost")
                        self.reply("250 8BITMIME")
                    elif verb == "HELO" or verb in ("NOOP", "RSET"):
                        if verb == "RSET":
                            mail_from, rcpts = "", []
                        self.reply("250 OK")
                    elif verb == "MAIL":
                        mail_from = line.split(":", 1)[1].strip().split(" ")[0].strip("<>")
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = bytearray()
                        while True:
                            chunk = self.rfile.readline()
                            if not chunk or chunk == b".\r\n":
                                break
                            # Dot-stuffing (RFC 5321 4.5.2).
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        msg = message_from_bytes(bytes(data), policy=policy.default)
                        with capture._lock:
                            capture.mails.append(Captured(mail_from, rcpts, msg))  # type: ignore[arg-type]
                        mail_from, rcpts = "", []
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        return Handler


@pytest.fixture
def smtp_capture() -> Iterator[SmtpCapture]:
    """A running SmtpCapture, stopped after the test."""
    server = SmtpCapture().start()
    yield server
    server.stop()
