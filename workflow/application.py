"""The application form (附件1): read from TOML or JSON, check every field is present.

Completeness is checked at submission (every problem listed at once); eligibility is a
separate matter, decided by the city's policies when it accepts the application.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.base import parse_date
from workflow.errors import InvalidInput

# (section, field, 中文, kind); kind: text | date | int | bool | list
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("", "filler", "填表人", "text"),
    ("", "fill_date", "填表日期", "date"),
    ("", "contact", "联系方式", "text"),
    ("party_organization", "name", "党组织名称", "text"),
    ("party_organization", "founded", "成立时间", "date"),
    ("party_organization", "members", "党员数", "int"),
    ("enterprise", "name", "企业名称", "text"),
    ("enterprise", "city", "所在城市", "text"),
    ("enterprise", "address", "经营地址", "text"),
    ("enterprise", "registered_in_city", "在所在城市注册", "bool"),
    ("enterprise", "operating_in_city", "在所在城市实地实体经营", "bool"),
    ("enterprise", "introduction", "企业生产经营和党建工作情况简介", "text"),
    ("project", "name", "项目名称", "text"),
    ("project", "started", "项目启动时间", "date"),
    ("project", "expected_completion", "预计基本完成时间", "date"),
    ("project", "background", "背景意义", "text"),
    ("project", "content", "主要内容", "text"),
    ("project", "party_role", "党组织和党员作用发挥情况", "text"),
    ("project", "completion", "完成情况", "text"),
    ("project", "results", "取得的主要成效", "text"),
    ("project", "evidence", "成果佐证（认可/高企/专精特新/冠军）", "list"),
    ("opinions", "enterprise_party_organization", "企业党组织意见（盖章）", "text"),
)
TEAM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "姓名", "text"),
    ("political_status", "政治面貌", "text"),
    ("position", "行政职务", "text"),
    ("responsibility", "职责分工", "text"),
)


def read_application(path: Path) -> dict[str, Any]:
    """Read an application file (.toml or .json)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"application file {path}", [f"cannot be read: {exc.strerror}"]) from None
    try:
        text = raw.decode("utf-8-sig")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        elif path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            raise InvalidInput(f"application file {path}", ["use a .toml or .json file"])
    except UnicodeDecodeError:
        raise InvalidInput(f"application file {path}", ["not UTF-8 text"]) from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"application file {path}", [f"cannot be parsed: {exc}"]) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"application file {path}", ["the top level must be a table/object"])
    return data


def validate_application(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a normalised copy of the application, or raise listing every missing or bad field."""
    problems: list[str] = []
    out: dict[str, Any] = json.loads(json.dumps(data, default=str))  # deep copy, dates as ISO text
    for section, name, zh, kind in FIELDS:
        holder = out if not section else out.get(section)
        where = f"{section}.{name}" if section else name
        if not isinstance(holder, dict):
            problems.append(f"{where} ({zh}) is missing")
            continue
        value = holder.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{where} ({zh}) is missing")
        elif kind == "date" and parse_date(value) is None:
            problems.append(f"{where} ({zh}) = {value!r} is not a date (YYYY-MM-DD)")
        elif kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{where} ({zh}) = {value!r} is not a whole number")
        elif kind == "bool" and not isinstance(value, bool):
            problems.append(f"{where} ({zh}) = {value!r} must be true or false")
        elif kind == "list" and not isinstance(value, list):
            problems.append(f"{where} ({zh}) must be a list")
    team = out.get("team")
    if not isinstance(team, list) or not team:
        problems.append("team (主要团队成员) is missing: list at least the project lead")
    else:
        for i, member in enumerate(team, start=1):
            if not isinstance(member, dict):
                problems.append(f"team[{i}] is not a table")
                continue
            for name, zh, _ in TEAM_FIELDS:
                if not str(member.get(name) or "").strip():
                    problems.append(f"team[{i}].{name} ({zh}) is missing")
            member["lead"] = bool(member.get("lead", False))
            member["main_rd"] = bool(member.get("main_rd", False))
    if problems:
        raise InvalidInput("application", problems)
    return out
