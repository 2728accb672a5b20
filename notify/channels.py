"""The channels. Each raises DeliveryError with a reason that carries no secret."""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from notify.config import NotifyConfig
from workflow.log import get_logger
from workflow.reminders import DeliveryError, Notice

log = get_logger("evalflow.notify")


class ConsoleChannel:
    """Always on: the structured log (info level), and the command's output when ``echo`` is given."""

    name = "console"

    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo

    def wants(self, recipient: str) -> bool:
        return True

    def send(self, notice: Notice) -> None:
        log.info("reminder", key=notice.key, recipient=notice.recipient, late=notice.late, text=notice.text)
        if self.echo is not None:
            self.echo(f"→ {notice.recipient}: {notice.text}")


class EmailChannel:
    """E-mail over SMTP to the recipient's addresses; the key is in the header X-Evalflow-Key."""

    name = "email"

    def __init__(self, config: NotifyConfig):
        self.config = config

    def wants(self, recipient: str) -> bool:
        return self.config.smtp is not None and bool(self.config.recipient(recipient).email)

    def send(self, notice: Notice) -> None:
        smtp = self.config.smtp
        assert smtp is not None
        msg = EmailMessage()
        msg["Subject"] = f"[evalflow] {notice.subject}"
        msg["From"] = smtp.sender
        msg["To"] = ", ".join(self.config.recipient(notice.recipient).email)
        msg["X-Evalflow-Key"] = notice.key
        msg.set_content(notice.text + "\n")
        where = f"SMTP {smtp.host}:{smtp.port}"
        try:
            if smtp.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"cannot reach {where} ({type(exc).__name__})") from None
        with client:
            try:
                if smtp.starttls:
                    client.starttls(context=ssl.create_default_context())
                if smtp.user:
                    client.login(smtp.user, smtp.password)
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryError(f"{where}: login as {smtp.user} refused ({type(exc).__name__})") from None
            try:
                client.send_message(msg)
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryError(f"{where} refused the message ({type(exc).__name__})") from None


class WebhookChannel:
    """A DingTalk or WeCom group robot: POST {"msgtype": "text", "text": {"content": …}}.

    Both robots answer {"errcode": 0, …} on success. The URL (it holds the robot's token) is never
    logged or shown in an error."""

    name = "webhook"

    def __init__(self, config: NotifyConfig, timeout: float = 10.0):
        self.config = config
        self.timeout = timeout

    def wants(self, recipient: str) -> bool:
        return bool(self.config.recipient(recipient).webhook)

    def send(self, notice: Notice) -> None:
        url = self.config.recipient(notice.recipient).webhook
        body = {"msgtype": "text", "text": {"content": notice.text}}
        request = urllib.request.Request(
            url,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", "X-Evalflow-Key": notice.key},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"the {notice.recipient} robot answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"cannot reach the {notice.recipient} robot ({type(reason).__name__})") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
            raise DeliveryError(
                f"the {notice.recipient} robot refused: errcode {answer.get('errcode')} "
                f"{str(answer.get('errmsg', ''))[:80]}"
            )


def channels_for(config: NotifyConfig, echo: Callable[[str], None] | None = None) -> list:
    return [ConsoleChannel(echo), EmailChannel(config), WebhookChannel(config)]
