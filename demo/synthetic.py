"""Synthetic applications for demos, tests and benchmarks: plausible, complete, never real.

Enterprise names are assembled from syllables and always end in "（示例）", so a generated
name can never be mistaken for a real company.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

SYLLABLES = "启澜衡瀚曜沐知栖翎璟拓岚禾弈晟骁钧珩泓朔岱砺逸睿铖"
INDUSTRIES = [
    ("集成电路", ["车规级芯片", "功率半导体", "模拟芯片", "先进封装", "晶圆检测"]),
    ("人工智能", ["工业视觉", "大模型推理", "智能语音", "自动驾驶感知", "机器人控制"]),
    ("生物医药", ["抗体药物", "细胞治疗", "医用影像", "体外诊断", "创新疫苗"]),
    ("高端装备", ["精密减速器", "数控系统", "激光加工", "智能传感器", "工业母机"]),
    ("新材料", ["碳纤维复合材料", "高纯靶材", "特种涂层", "锂电隔膜", "光学薄膜"]),
]
SHORT = {"集成电路": "微电子", "人工智能": "智能", "生物医药": "生物", "高端装备": "装备", "新材料": "材料"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "敏", "静", "磊", "洋", "婷", "杰", "芳", "涛", "颖", "斌", "倩", "晨", "浩", "蕾", "鹏"]
POSITIONS = ["总经理", "技术总监", "研发部经理", "首席科学家", "高级工程师", "项目经理", "工程师"]

# Reasons a generated application is ineligible (the policy it will fail).
FLAWS = ("not_registered", "non_member_lead", "late_timeline", "no_evidence")


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))


def application(
    rng: random.Random, city: str, city_name: str, year: int, serial: int, flaw: str | None = None
) -> dict[str, Any]:
    """A complete 附件1 application for ``city``; ``flaw`` makes it fail one eligibility condition."""
    industry, topics = rng.choice(INDUSTRIES)
    topic = rng.choice(topics)
    brand = "".join(rng.sample(SYLLABLES, 2))
    enterprise = f"{city_name.rstrip('市区')}{brand}{SHORT[industry]}科技有限公司（示例{serial:03d}）"
    lead = person(rng)
    team = [
        {
            "name": lead,
            "political_status": "中共党员",
            "position": rng.choice(POSITIONS[:4]),
            "responsibility": "项目总负责",
            "lead": True,
            "main_rd": True,
        }
    ]
    for _ in range(rng.randint(2, 4)):
        team.append(
            {
                "name": person(rng),
                "political_status": rng.choice(["中共党员", "中共党员", "中共预备党员"]),
                "position": rng.choice(POSITIONS[2:]),
                "responsibility": f"{topic}研发",
                "main_rd": True,
            }
        )
    team.append(
        {
            "name": person(rng),
            "political_status": "群众",
            "position": "工程师",
            "responsibility": "测试验证",
            "main_rd": False,
        }
    )
    started = date(year - 1, rng.randint(1, 12), rng.randint(1, 28))
    completion = date(year, rng.randint(1, 6), rng.randint(1, 28))
    evidence = rng.sample(
        ["high_tech_enterprise", "specialized_new", "municipal_recognition", "hidden_champion", "single_item_champion"],
        rng.randint(1, 2),
    )
    registered = True
    if flaw == "not_registered":
        registered = False
    elif flaw == "non_member_lead":
        team[0]["political_status"] = "群众"
    elif flaw == "late_timeline":
        completion = date(year, rng.randint(9, 12), 15)
    elif flaw == "no_evidence":
        evidence = []
    return {
        "filler": person(rng),
        "fill_date": date(year, 1, rng.randint(5, 25)).isoformat(),
        "contact": f"1{rng.randint(30, 99)}{rng.randint(10000000, 99999999)}",
        "party_organization": {
            "name": f"{enterprise.split('（')[0]}党支部",
            "founded": date(rng.randint(2008, year - 2), rng.randint(1, 12), 1).isoformat(),
            "members": rng.randint(5, 120),
        },
        "enterprise": {
            "name": enterprise,
            "city": city,
            "address": f"{city_name}科创大道{rng.randint(1, 999)}号",
            "registered_in_city": registered,
            "operating_in_city": True,
            "introduction": f"专注{industry}领域{topic}研发与产业化，党支部与研发团队深度融合。",
        },
        "project": {
            "name": f"{topic}关键技术攻关与产业化",
            "started": started.isoformat(),
            "expected_completion": completion.isoformat(),
            "background": f"{topic}是{industry}产业链的关键环节。",
            "content": f"突破{topic}核心工艺。",
            "party_role": "党员骨干领衔攻关，设立党员先锋岗。",
            "completion": "主体研发任务基本完成。",
            "results": "申请发明专利若干项，实现小批量供货。",
            "evidence": evidence,
        },
        "team": team,
        "opinions": {"enterprise_party_organization": "同意申报。（盖章）"},
    }
