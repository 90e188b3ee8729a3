"""Outgoing e-mail over SMTP (settings from the environment); logged when no server is set."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from whaticket.utils import outbound


class MailError(Exception):
    """The SMTP server refused or could not be reached."""


def build(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A plain-text e-mail, with an HTML alternative when given."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="whaticket")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send(to: str, subject: str, text: str, html: str | None = None) -> bool:
    """Send one e-mail; False when SMTP_HOST is unset (development: the mail is logged)."""
    cfg = current_app.config
    msg = build(to, subject, text, html)
    host = cfg.get("SMTP_HOST")
    if not host:
        if cfg.get("APP_ENV") == "production":
            current_app.logger.error("SMTP_HOST is not set: mail to %s not sent", to)
        else:
            # Development without a mail server: the developer reads the mail in the log.
            current_app.logger.warning("SMTP_HOST is not set; mail not sent:\n%s", msg)
        return False
    outbound.check_no_transaction("SMTP send")
    port = int(cfg.get("SMTP_PORT") or 587)
    timeout = cfg.get("SMTP_TIMEOUT", 20)
    security = (cfg.get("SMTP_SECURITY") or "starttls").lower()
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
    return True
