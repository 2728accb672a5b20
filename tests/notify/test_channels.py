"""Each channel against a real local server: SMTP (aiosmtpd) and an HTTP group-robot endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notify.channels import ConsoleChannel, EmailChannel, WebhookChannel
from notify.config import NotifyConfig, Recipient, SmtpSettings, parse_config
from tests.servers import SmtpServer
from workflow.errors import InvalidInput
from workflow.reminders import DeliveryError, Notice

NOTICE = Notice(
    key="g60-2027/recommendation/1d/hefei",
    recipient="hefei",
    recipient_name="合肥市",
    subject="合肥市 · 九城市推荐 (recommendation) · 1 d 0 h left",
    text="合肥市，九城市推荐（g60-2027）: hefei has 3 of the 5 required recommendations; 1 d 0 h left. "
    "Reminder key: g60-2027/recommendation/1d/hefei",
    due_at=datetime(2027, 6, 29, 16, 0, tzinfo=UTC),
)


def email_config(port: int, **smtp) -> NotifyConfig:
    return NotifyConfig(
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="evalflow@example.org", **smtp),
        recipients={"hefei": Recipient(email=("zzb-hefei@example.org", "deputy@example.org"))},
    )


def test_email_reaches_the_smtp_server_with_the_key(smtp_server) -> None:
    EmailChannel(email_config(smtp_server.port)).send(NOTICE)
    [msg] = smtp_server.inbox.messages
    assert msg["X-Evalflow-Key"] == NOTICE.key
    assert msg["To"] == "zzb-hefei@example.org, deputy@example.org"
    assert "九城市推荐" in str(msg.get("Subject")) or "=?utf-8?" in str(msg.get("Subject"))
    body = msg.get_payload(decode=True).decode("utf-8")
    assert "hefei has 3 of the 5 required recommendations" in body and NOTICE.key in body
    assert smtp_server.inbox.envelopes == [("evalflow@example.org", ["zzb-hefei@example.org", "deputy@example.org"])]


def test_email_logs_in_with_the_password_from_the_environment(monkeypatch) -> None:
    server = SmtpServer(user="evalflow", password="s3cret").start()
    try:
        monkeypatch.setenv("EVALFLOW_SMTP_PASSWORD", "s3cret")
        EmailChannel(email_config(server.port, user="evalflow")).send(NOTICE)
        assert len(server.inbox.messages) == 1
        monkeypatch.setenv("EVALFLOW_SMTP_PASSWORD", "wrong")
        with pytest.raises(DeliveryError) as err:  # a short timeout: the test server stalls after a failure
            EmailChannel(email_config(server.port, user="evalflow", timeout=1.0)).send(NOTICE)
        assert "login as evalflow refused" in str(err.value) and "wrong" not in str(err.value)
    finally:
        server.stop()


def test_email_to_an_unreachable_server_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError) as err:
        EmailChannel(email_config(1)).send(NOTICE)  # nothing listens on port 1
    assert "cannot reach SMTP 127.0.0.1:1" in str(err.value)


def test_email_is_only_wanted_for_recipients_with_addresses(smtp_server) -> None:
    channel = EmailChannel(email_config(smtp_server.port))
    assert channel.wants("hefei") and not channel.wants("wuhu")
    assert not EmailChannel(NotifyConfig()).wants("hefei")


def robot_config(url: str) -> NotifyConfig:
    return NotifyConfig(recipients={"hefei": Recipient(webhook=url)})


def test_webhook_posts_the_robot_text_message(robot_server) -> None:
    WebhookChannel(robot_config(robot_server.url())).send(NOTICE)
    [body] = robot_server.bodies
    assert body == {"msgtype": "text", "text": {"content": NOTICE.text}}
    assert robot_server.headers[0]["X-Evalflow-Key"] == NOTICE.key


@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [(500, {}, "answered HTTP 500"), (200, {"errcode": 310000, "errmsg": "keywords not in content"}, "errcode 310000")],
    ids=["http-error", "robot-errcode"],
)
def test_webhook_failures_name_the_cause_but_not_the_token(robot_server, status, answer, expected) -> None:
    robot_server.status, robot_server.answer = status, answer
    with pytest.raises(DeliveryError) as err:
        WebhookChannel(robot_config(robot_server.url("TOPSECRET"))).send(NOTICE)
    assert expected in str(err.value)
    assert "TOPSECRET" not in str(err.value) and "127.0.0.1" not in str(err.value)


def test_console_always_delivers(capsys) -> None:
    lines: list[str] = []
    channel = ConsoleChannel(lines.append)
    assert channel.wants("anyone")
    channel.send(NOTICE)
    assert lines == [f"→ hefei: {NOTICE.text}"]


def test_config_refuses_a_password_in_the_file() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_config({"smtp": {"host": "h", "password": "x"}})
    assert "password_env" in str(err.value)
    config = parse_config({"smtp": {"host": "h", "port": 2525}, "recipients": {"hefei": {"email": "a@b"}}})
    assert config.smtp.port == 2525 and config.recipient("hefei").email == ("a@b",)
