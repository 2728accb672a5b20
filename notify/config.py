"""Notification settings, read from a TOML file (``--config``, EVALFLOW_CONFIG, or ./evalflow.toml).

Example::

    [smtp]
    host = "smtp.example.gov.cn"
    port = 465
    ssl = true                       # or starttls = true on port 587
    user = "evalflow@example.gov.cn"
    password_env = "EVALFLOW_SMTP_PASSWORD"   # the password itself never sits in the file
    sender = "evalflow@example.gov.cn"

    [recipients.CITY]                # a party's id in the program file
    email = ["zzb-city@example.gov.cn"]
    webhook = "https://oapi.dingtalk.com/robot/send?access_token=…"   # or a WeCom robot URL

    [recipients.lead]
    email = ["zzb-lead@example.gov.cn"]
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from i18n import Msg
from workflow.errors import InvalidInput, os_reason


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str = ""
    password_env: str = "EVALFLOW_SMTP_PASSWORD"
    sender: str = "evalflow@localhost"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0

    @property
    def password(self) -> str:
        return os.environ.get(self.password_env, "")


@dataclass(frozen=True)
class Recipient:
    email: tuple[str, ...] = ()
    webhook: str = ""


@dataclass(frozen=True)
class NotifyConfig:
    smtp: SmtpSettings | None = None
    recipients: dict[str, Recipient] = field(default_factory=dict)
    max_attempts: int = 5
    backoff_seconds: int = 60
    grace_seconds: int = 300

    def recipient(self, name: str) -> Recipient:
        return self.recipients.get(name, Recipient())


def parse_config(data: dict[str, Any], where: str | Msg = "configuration") -> NotifyConfig:
    problems: list[str] = []
    smtp = None
    raw = data.get("smtp")
    if raw is not None:
        if not isinstance(raw, dict) or not raw.get("host"):
            problems.append("[smtp] needs at least host")
        else:
            known = set(SmtpSettings.__dataclass_fields__)
            unknown = sorted(set(raw) - known)
            if "password" in raw:
                problems.append("[smtp] password must not be written in the file; set password_env instead")
            elif unknown:
                problems.append(f"[smtp] unknown keys: {', '.join(unknown)}")
            else:
                smtp = SmtpSettings(**raw)
    recipients: dict[str, Recipient] = {}
    for name, value in (data.get("recipients") or {}).items():
        if not isinstance(value, dict):
            problems.append(f"[recipients.{name}] must be a table")
            continue
        emails = value.get("email", [])
        if isinstance(emails, str):
            emails = [emails]
        recipients[name] = Recipient(tuple(emails), str(value.get("webhook", "")))
    delivery = data.get("delivery") or {}
    if problems:
        raise InvalidInput(where, problems)
    return NotifyConfig(
        smtp=smtp,
        recipients=recipients,
        max_attempts=int(delivery.get("max_attempts", 5)),
        backoff_seconds=int(delivery.get("backoff_seconds", 60)),
        grace_seconds=int(delivery.get("grace_seconds", 300)),
    )


def load_config(path: str | None) -> NotifyConfig:
    """The configuration file named, or EVALFLOW_CONFIG, or ./evalflow.toml if present; else empty."""
    chosen = path or os.environ.get("EVALFLOW_CONFIG")
    if not chosen:
        if not Path("evalflow.toml").exists():
            return NotifyConfig()
        chosen = "evalflow.toml"
    file = Path(chosen)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(
            Msg("configuration file {file}", file=file), [Msg("cannot be read: {why}", why=os_reason(exc))]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            Msg("configuration file {file}", file=file), [Msg("not valid TOML: {why}", why=str(exc))]
        ) from None
    return parse_config(data, Msg("configuration file {file}", file=file))
