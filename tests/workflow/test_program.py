"""The program loader (workflow/program/): programs are data, validated all at once.

An administrator editing a program file must learn every mistake in one go, with a message
pointing at the offending entry; a valid program yields the windows of any cycle year (leap
years included) and one shared state machine.
"""

from __future__ import annotations

import copy
import itertools
import tomllib
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from workflow.errors import NotFound, ProgramInvalid
from workflow.program import (
    MonthDay,
    Program,
    ProgramRegistry,
    build_program,
    default_program_dirs,
    effective_quotas,
    load_program,
    to_mermaid,
)

PROGRAM_ID = "g60-deep-integration"
SHIPPED = default_program_dirs()[-1] / f"{PROGRAM_ID}.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CITIES = ("songjiang", "jiaxing", "hangzhou", "jinhua", "suzhou", "huzhou", "xuancheng", "wuhu", "hefei")


@pytest.fixture(scope="module")
def program() -> Program:
    return ProgramRegistry().get(PROGRAM_ID)


def shipped_data() -> dict:
    """A fresh, mutable copy of the shipped program file's data."""
    return copy.deepcopy(tomllib.loads(SHIPPED.read_text(encoding="utf-8")))


def problems_of(data: dict) -> ProgramInvalid:
    with pytest.raises(ProgramInvalid) as info:
        build_program(data)
    return info.value


# -- the shipped program ----------------------------------------------------------------------------


def test_shipped_program_loads(program):
    """G60: nine parties (Songjiang the lead), six stages in the seed's order."""
    assert program.id == PROGRAM_ID
    assert program.timezone == "Asia/Shanghai"
    assert program.lead == "songjiang"
    assert len(program.parties) == 9
    assert program.party_ids == CITIES
    assert [p.id for p in program.parties if p.role == "lead"] == ["songjiang"]
    assert program.party("hefei").name == "合肥市"
    assert program.party("songjiang").unit == "松江区委组织部"
    assert [s.id for s in program.stages] == [
        "collection",
        "municipal_review",
        "recommendation",
        "joint_scoring",
        "confirmation",
        "publication",
    ]
    assert program.next_stage("confirmation").id == "publication"
    assert program.next_stage("publication") is None


def test_shipped_program_facts(program):
    """The seed's numbers live in the program: quotas, funding, the minimum, the score sheet."""
    assert program.quotas == {"songjiang": {"demonstration": 10, "excellent": 25}}
    assert program.funding["songjiang"] == {"demonstration": 20000, "excellent": 8000}
    assert program.policy_params["min_recommendations"] == {"minimum": 5}
    assert [(c.id, c.max) for c in program.criteria] == [
        ("value", 20),
        ("organization", 30),
        ("effectiveness", 30),
        ("mechanism", 20),
    ]
    assert sum(c.max for c in program.criteria) == 100
    assert effective_quotas(program.quotas, None).get("hefei", {}).get("demonstration") is None
    assert effective_quotas(program.quotas, {"hefei": {"demonstration": 8}})["hefei"]["demonstration"] == 8
    assert program.stage_of_action["accept"] == "collection"
    assert program.stage_of_action["score"] == "joint_scoring"
    assert program.stage_of_action["publish"] == "publication"


def test_unknown_party_and_stage_are_not_found(program):
    """Looking up a city or stage that is not in the program names what exists."""
    with pytest.raises(NotFound, match="No city 'nanjing'; the program's cities are songjiang, jiaxing"):
        program.party("nanjing")
    with pytest.raises(NotFound, match="No stage 'lottery'"):
        program.stage("lottery")


# -- windows ------------------------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


WINDOWS = [
    ("collection_2027", "collection", 2027, utc(2026, 12, 31, 16), utc(2027, 2, 28, 16)),
    ("collection_2028_leap", "collection", 2028, utc(2027, 12, 31, 16), utc(2028, 2, 29, 16)),
    ("municipal_2027", "municipal_review", 2027, utc(2027, 2, 28, 16), utc(2027, 4, 30, 16)),
    ("municipal_2028", "municipal_review", 2028, utc(2028, 2, 29, 16), utc(2028, 4, 30, 16)),
    ("recommendation_2027", "recommendation", 2027, utc(2027, 4, 30, 16), utc(2027, 6, 30, 16)),
    ("joint_scoring_2027", "joint_scoring", 2027, utc(2027, 4, 30, 16), utc(2027, 6, 30, 16)),
    ("confirmation_2027", "confirmation", 2027, utc(2027, 4, 30, 16), utc(2027, 6, 30, 16)),
]


@pytest.mark.parametrize(("stage", "year", "opens", "closes"), [w[1:] for w in WINDOWS], ids=[w[0] for w in WINDOWS])
def test_windows_for_a_cycle_year(program, stage, year, opens, closes):
    """Windows open at 00:00 of the first day and close at 24:00 of the last, Asia/Shanghai."""
    window = program.window(stage, year)
    assert (window.opens, window.closes, window.zone) == (opens, closes, "Asia/Shanghai")


def test_collection_closes_at_march_first_shanghai_in_common_and_leap_years(program):
    """'02-29' means the last day of February: collection ends 03-01 00:00 local in 2027 and in 2028."""
    c2027 = program.window("collection", 2027).closes
    c2028 = program.window("collection", 2028).closes
    assert c2027 == datetime(2027, 3, 1, 0, 0, tzinfo=SHANGHAI)
    assert c2027.isoformat() == "2027-02-28T16:00:00+00:00"
    assert c2028 == datetime(2028, 3, 1, 0, 0, tzinfo=SHANGHAI)
    assert c2028.isoformat() == "2028-02-29T16:00:00+00:00"


def test_joint_stages_share_one_window_and_publication_has_none(program):
    """Recommendation, joint scoring and confirmation share May–June; publication has no dates."""
    assert program.stage("recommendation").window is program.stage("confirmation").window
    assert program.window("publication", 2027) is None


# -- MonthDay ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "expected"),
    [
        ("03-01", 2027, date(2027, 3, 1)),
        ("02-29", 2027, date(2027, 2, 28)),
        ("02-29", 2028, date(2028, 2, 29)),
        ("04-31", 2027, date(2027, 4, 30)),
        ("12-31", 2027, date(2027, 12, 31)),
    ],
    ids=["plain", "feb29_common_year", "feb29_leap_year", "past_month_end", "year_end"],
)
def test_month_day_in_year(text, year, expected):
    """A day past the month's end means the month's last day."""
    assert MonthDay.parse(text).in_year(year) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("3/1", "is not a month-day like '03-01'"),
        ("2027-03-01", "is not a month-day like '03-01'"),
        (None, "None is not a month-day"),
        (301, "301 is not a month-day"),
        ("13-01", "'13-01' is not a valid month-day"),
        ("00-10", "'00-10' is not a valid month-day"),
        ("02-32", "'02-32' is not a valid month-day"),
        ("02-00", "'02-00' is not a valid month-day"),
        ("ab-cd", "invalid literal"),
    ],
    ids=["slash", "full_date", "none", "int", "month_13", "month_0", "day_32", "day_0", "letters"],
)
def test_month_day_parse_refuses(text, error):
    """Malformed window dates are refused (and reported by the loader)."""
    with pytest.raises(ValueError, match=error):
        MonthDay.parse(text)


def test_month_day_key_orders_dates():
    assert MonthDay.parse("02-29").key() < MonthDay.parse("03-01").key()


# -- validation: every problem at once ------------------------------------------------------------------


def test_a_program_with_many_problems_lists_every_one():
    """One load reports every problem, each pointing at the offending entry."""
    data = shipped_data()
    data["stages"].append({"id": "lottery", "kind": "raffle", "name": "抽签"})
    data["guards"]["submit"] = ["application_city_in_program", "no_such_policy"]
    del data["program"]["timezone"]
    data["windows"]["spare"] = {"start": "12-01", "end": "11-01"}
    data["windows"]["joint"]["start"] = "04-15"
    data["permissions"]["award"] = {"roles": ["lead", "boss"]}
    data["parties"][1]["role"] = "lead"
    data["score_sheet"][0]["bands"][0]["max"] = 21
    data["score_sheet"][1]["bands"][1]["min"] = 20

    err = problems_of(data)
    expected = [
        "stage 'lottery': unknown stage kind 'raffle' (known: ",
        "[guards] submit: unknown policy 'no_such_policy'",
        "[program] timezone is missing",
        "window 'spare' is inverted: it ends (11-01) before it starts (12-01)",
        "windows overlap or run backwards: stage 'recommendation' opens 04-15, "
        "before stage 'municipal_review' closes 04-30",
        "[permissions] award: unknown roles boss (known: lead, city-admin, scorer, applicant)",
        "exactly one party must have role 'lead' (found 2)",
        "score criterion 'value': band 非常重要 18-21 is not within 0-20",
        "score criterion 'organization': bands 一般 and 比较明显 overlap",
    ]
    message = str(err)
    for text in expected:
        assert text in message, text
        assert any(text in p for p in err.problems), text
    assert len(err.problems) == len(expected)
    assert message.startswith(f"Invalid program {PROGRAM_ID}: ")
    assert err.exit_code == 8


SINGLE_PROBLEMS = [
    ("no_id", lambda d: d["program"].pop("id"), "[program] id is missing"),
    (
        "bad_timezone",
        lambda d: d["program"].update(timezone="Mars/Olympus"),
        "[program] timezone 'Mars/Olympus' is not a known time zone",
    ),
    (
        "lead_mismatch",
        lambda d: d["program"].update(lead="hefei"),
        "[program] lead is 'hefei' but the lead party is 'songjiang'",
    ),
    ("no_lead", lambda d: d["parties"][0].update(role="city"), "exactly one party must have role 'lead' (found 0)"),
    (
        "bad_role",
        lambda d: d["parties"][2].update(role="mayor"),
        "party 'hangzhou' has role 'mayor'; expected 'lead' or 'city'",
    ),
    ("party_without_name", lambda d: d["parties"][3].pop("name"), "parties[3] needs an id and a name"),
    ("repeated_party", lambda d: d["parties"].append(dict(d["parties"][8])), "party ids repeat: hefei"),
    ("no_parties", lambda d: d.pop("parties"), "the program has no parties"),
    (
        "bad_window_date",
        lambda d: d["windows"]["municipal"].update(end="04/30"),
        "window 'municipal': '04/30' is not a month-day like '03-01'",
    ),
    (
        "unknown_window",
        lambda d: d["stages"][1].update(window="summer"),
        "stage 'municipal_review': unknown window 'summer'",
    ),
    (
        "unknown_closing_policy",
        lambda d: d["stages"][2].update(close_when=["everyone_happy"]),
        "stage 'recommendation': unknown closing policy 'everyone_happy'",
    ),
    ("no_stages", lambda d: d.pop("stages"), "the program has no stages"),
    (
        "guard_on_unknown_trigger",
        lambda d: d["guards"].update(bribe=["municipal_quota"]),
        "[guards] 'bribe' is not a trigger of any stage of this program",
    ),
    (
        "permission_on_unknown_action",
        lambda d: d["permissions"].update(bribe={"roles": ["lead"]}),
        "[permissions] 'bribe' is not an action of this program",
    ),
    ("nobody_may_act", lambda d: d["permissions"].pop("award"), "[permissions] nobody may do: award"),
    (
        "unknown_policy_params",
        lambda d: d["policies"].update(luck={"x": 1}),
        "[policies.luck] configures an unknown policy",
    ),
    *(
        (
            f"min_party_members_{name}",
            lambda d, value=value: d["policies"]["registered_in_corridor"].update(min_party_members=value),
            f"[policies.registered_in_corridor] min_party_members = {value!r} is not a whole number ≥ 1",
        )
        for name, value in (("zero", 0), ("negative", -3), ("text", "3"), ("fraction", 2.5), ("yes", True))
    ),
    (
        "quota_for_unknown_city",
        lambda d: d["quotas"].update(nanjing={"demonstration": 3}),
        "[quotas.nanjing] is not a party of the program",
    ),
    (
        "negative_quota",
        lambda d: d["quotas"]["songjiang"].update(excellent=-1),
        "[quotas.songjiang] excellent = -1 is not a whole number ≥ 0",
    ),
    (
        "fractional_funding",
        lambda d: d["funding"]["songjiang"].update(excellent=8000.5),
        "[funding.songjiang] excellent = 8000.5 is not a whole number ≥ 0",
    ),
    (
        "criterion_without_bands",
        lambda d: d["score_sheet"][3].update(bands=[]),
        "score criterion 'mechanism' has no bands",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [p[1:] for p in SINGLE_PROBLEMS], ids=[p[0] for p in SINGLE_PROBLEMS])
def test_each_kind_of_problem_is_named(mutate, expected):
    """Each kind of mistake in a program file produces its own readable problem."""
    data = shipped_data()
    mutate(data)
    assert any(expected in p for p in problems_of(data).problems), problems_of(data).problems


def test_shipped_data_builds_the_same_program(program):
    """build_program on the file's data gives the same program the registry loads."""
    built = build_program(shipped_data())
    assert built.party_ids == program.party_ids
    assert [s.id for s in built.stages] == [s.id for s in program.stages]
    assert built.guards == program.guards
    assert built.path is None
    assert program.path == SHIPPED.resolve() or program.path == SHIPPED
    assert len(program.digest) == 16


# -- loading files -----------------------------------------------------------------------------------------


def test_unknown_program_is_not_found():
    """Asking for a program that has no file names the programs that exist."""
    with pytest.raises(NotFound) as info:
        ProgramRegistry().get("nope")
    assert str(info.value) == f"No program 'nope'; known programs: {', '.join(ProgramRegistry().ids())}."
    assert PROGRAM_ID in str(info.value)
    assert info.value.exit_code == 5


def test_registry_lists_and_caches_programs():
    """The registry finds program files by name and loads each once."""
    registry = ProgramRegistry()
    assert PROGRAM_ID in registry.ids()
    assert registry.get(PROGRAM_ID) is registry.get(PROGRAM_ID)


def test_registry_with_no_programs(tmp_path):
    """An empty program directory: the hint says there are none."""
    with pytest.raises(NotFound, match="known programs: none"):
        ProgramRegistry([tmp_path / "missing"]).get(PROGRAM_ID)


def test_first_directory_wins(tmp_path):
    """A program file in an earlier directory (EVALFLOW_PROGRAMS) overrides the shipped one."""
    data = SHIPPED.read_text(encoding="utf-8").replace('name_en = "G60', 'name_en = "Local G60')
    (tmp_path / f"{PROGRAM_ID}.toml").write_text(data, encoding="utf-8")
    registry = ProgramRegistry([tmp_path, SHIPPED.parent])
    assert registry.files()[PROGRAM_ID] == tmp_path / f"{PROGRAM_ID}.toml"
    assert registry.get(PROGRAM_ID).name_en.startswith("Local G60")


BAD_FILES = [
    ("invalid_toml", b"[program\nid = 'x'\n", "not valid TOML"),
    ("invalid_utf8", b"[program]\nname = '\xff\xfe'\n", "not valid TOML"),
]


@pytest.mark.parametrize(("content", "expected"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_invalid_program_file(tmp_path, content, expected):
    """A file that is not TOML is a ProgramInvalid naming the file (exit code 8)."""
    path = tmp_path / "broken.toml"
    path.write_bytes(content)
    with pytest.raises(ProgramInvalid) as info:
        load_program(path)
    assert info.value.exit_code == 8
    assert str(info.value).startswith(f"Invalid program file {path}: {expected}")
    with pytest.raises(ProgramInvalid):
        ProgramRegistry([tmp_path]).get("broken")


def test_unreadable_program_file(tmp_path):
    """A missing (or unreadable) file is a ProgramInvalid saying it cannot be read."""
    path = tmp_path / "gone.toml"
    with pytest.raises(ProgramInvalid) as info:
        load_program(path)
    assert info.value.exit_code == 8
    assert f"program file {path}: cannot be read" in str(info.value)


def test_valid_toml_with_invalid_program_names_the_file(tmp_path):
    """Validation problems in a file are reported against the file's path."""
    path = tmp_path / "empty.toml"
    path.write_text("[program]\nid = 'empty'\n", encoding="utf-8")
    with pytest.raises(ProgramInvalid) as info:
        load_program(path)
    message = str(info.value)
    assert message.startswith(f"Invalid program file {path}: ")
    for text in ("timezone is missing", "the program has no parties", "the program has no stages"):
        assert text in message


# -- the machine ---------------------------------------------------------------------------------------------


def test_machine_is_shared_and_has_no_models(program):
    """One machine per program, shared by every project; projects are never added as models."""
    assert program.machine is program.machine
    assert ProgramRegistry().get(PROGRAM_ID).machine is not None
    before = list(program.machine.models)
    program.fire(SimpleNamespace(state="submitted"), "accept", {})
    assert list(program.machine.models) == before


FIRES = [
    ("accept", "submitted", "accept", {}, True, "in_library"),
    ("reject", "submitted", "reject", {}, True, "rejected"),
    ("accept_twice", "in_library", "accept", {}, False, "in_library"),
    ("review_demonstration", "in_library", "review", {"result": "demonstration"}, True, "municipal_demonstration"),
    ("re_review", "municipal_demonstration", "review", {"result": "excellent"}, True, "municipal_excellent"),
    ("review_unknown_result", "in_library", "review", {"result": "gold"}, False, "in_library"),
    ("recommend_excellent", "municipal_excellent", "recommend", {}, False, "municipal_excellent"),
    ("recommend", "municipal_demonstration", "recommend", {}, True, "recommended"),
    ("score_keeps_state", "recommended", "score", {"scores": {}}, True, "recommended"),
    ("place", "recommended", "place", {"category": "excellent"}, True, "listed_excellent"),
    ("award", "listed_demonstration", "award", {}, True, "awarded"),
    ("unknown_trigger", "submitted", "bribe", {}, False, "submitted"),
]


@pytest.mark.parametrize(
    ("state", "trigger", "request_", "fired", "after"), [f[1:] for f in FIRES], ids=[f[0] for f in FIRES]
)
def test_fire_on_plain_objects(program, state, trigger, request_, fired, after):
    """fire() moves any object with a `state` attribute; a disallowed trigger returns False and changes nothing."""
    model = SimpleNamespace(state=state)
    assert program.fire(model, trigger, request_) is fired
    assert model.state == after


def test_two_projects_move_independently(program):
    """Firing on one project does not touch another using the same machine."""
    a, b = SimpleNamespace(state="submitted"), SimpleNamespace(state="submitted")
    assert program.fire(a, "accept", {})
    assert (a.state, b.state) == ("in_library", "submitted")


_ABSENT = object()  # (a request without the key)


def _requests(program: Program, trigger: str) -> list[dict]:
    """Requests for ``trigger`` covering every value its edges' conditions name, others of each
    plain type, equal values of other types, an absent key, an unhashable value, and a key no
    condition reads."""
    keys = program.when_keys.get(trigger, ())
    choices = []
    for key in keys:
        named = [spec.when[key] for spec in program.transition_specs if spec.trigger == trigger and key in spec.when]
        choices.append([*dict.fromkeys(named), "unknown", "", None, 0, 1, 1.0, True, False, _ABSENT, ["a", "list"]])
    out = []
    for values in itertools.product(*choices):
        request = {k: v for k, v in zip(keys, values, strict=True) if v is not _ABSENT}
        out += [request, {**request, "method": "onsite"}]
    return out


@pytest.mark.parametrize("program_id", ProgramRegistry().ids())
def test_the_batch_memo_gives_the_machines_answer(program_id):
    """Program.fire with a batch's memo (the machine asked once per source state and values of
    the request keys the trigger's conditions read) moves a project exactly as the machine does,
    for every shipped program, state, trigger and request, asked again from the memo; and so does
    leads_to, sharing the memo."""
    program = ProgramRegistry().get(program_id)
    triggers = [*dict.fromkeys(spec.trigger for spec in program.transition_specs), "no_such_trigger"]
    memo: dict = {}  # one for everything: its keys name the trigger
    checked = 0
    for trigger in triggers:
        for request in _requests(program, trigger):
            for state in program.states:
                alone = SimpleNamespace(state=state)
                try:
                    fired = program.fire(alone, trigger, request)  # the machine itself
                except ValueError as exc:  # (an edge to a state the program lacks): so from the memo
                    with pytest.raises(ValueError, match=str(exc)):
                        program.fire(SimpleNamespace(state=state), trigger, request, memo)
                    continue
                for _ in range(2):  # the second time from the memo
                    model = SimpleNamespace(state=state)
                    assert program.fire(model, trigger, request, memo) is fired, (trigger, state, request)
                    assert model.state == alone.state, (trigger, state, request)
                    assert program.leads_to(state, trigger, request, memo) == (alone.state if fired else None)
                checked += fired
    assert checked > len(triggers)  # (the requests reach the edges, not only refusals)


def test_the_batch_memo_asks_the_machine_once_per_state_and_condition_values(program, monkeypatch):
    """A batch of many projects asks the machine once for each (state, the request values its
    conditions read); a request value that cannot key the memo is asked every time."""
    event = program.machine.events["review"]
    asked: list[str] = []
    real = event.trigger

    def counted(model, *args, **kwargs):
        asked.append(model.state)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(event, "trigger", counted)
    memo: dict = {}
    batch = [("in_library", "demonstration"), ("in_library", "excellent"), ("municipal_excellent", "demonstration")]
    for state, result in batch * 50:
        model = SimpleNamespace(state=state)
        assert program.fire(model, "review", {"result": result, "method": f"onsite {len(asked)}"}, memo)
        assert model.state == f"municipal_{result}"
    assert len(asked) == 3
    for _ in range(2):
        assert not program.fire(SimpleNamespace(state="in_library"), "review", {"result": ["demonstration"]}, memo)
    assert len(asked) == 5


def test_mermaid_names_guards_on_arrows(program):
    """The diagram shows each transition with its guards, and each stage's closing rules."""
    text = to_mermaid(program)
    assert text.startswith("stateDiagram-v2\n    [*] --> new\n")
    assert "new --> submitted: submit [application_city_in_program]" in text
    assert (
        "submitted --> in_library: accept [registered_in_corridor, party_member_team, "
        "project_timeline, original_results_evidence]"
    ) in text
    assert "in_library --> municipal_demonstration: review result=demonstration [municipal_quota]" in text
    assert "municipal_demonstration --> recommended: recommend [recommend_own_demonstration]" in text
    assert "recommended --> recommended: score [score_in_bands]" in text
    assert "submitted --> rejected: reject\n" in text
    assert "stage recommendation (九城市推荐) closes when min_recommendations" in text


# -- mistyped and tricky program files --------------------------------

MISTYPED = [
    ("permission_not_a_table", lambda d: d["permissions"].update(award=["lead"]), "award"),
    ("band_min_not_a_number", lambda d: d["score_sheet"][0]["bands"][0].update(min="abc"), "value"),
    ("stage_not_a_table", lambda d: d["stages"].append("lottery"), "lottery"),
    ("party_not_a_table", lambda d: d["parties"].append("nanjing"), "nanjing"),
    ("quota_not_a_table", lambda d: d["quotas"].update(songjiang=10), "songjiang"),
    ("policy_params_not_a_table", lambda d: d["policies"].update(min_recommendations=5), "min_recommendations"),
    ("timezone_not_text", lambda d: d["program"].update(timezone=8), "timezone"),
    ("version_not_a_number", lambda d: d["program"].update(version="one"), "version"),
]


@pytest.mark.parametrize(("mutate", "named"), [m[1:] for m in MISTYPED], ids=[m[0] for m in MISTYPED])
def test_wrongly_typed_entries_are_reported_not_crashed_on(mutate, named):
    """A value of the wrong TOML type is a program problem (exit 8), not a traceback."""
    data = shipped_data()
    mutate(data)
    err = problems_of(data)
    assert any(named in p for p in err.problems), err.problems


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["guards"].update(review="municipal_quota"),
        lambda d: d["stages"][0].update(close_when="all_submissions_decided"),
    ],
    ids=["guards_string", "close_when_string"],
)
def test_a_single_policy_name_instead_of_a_list(mutate):
    """`review = "municipal_quota"` (no brackets) is either accepted or reported once, not letter by letter."""
    data = shipped_data()
    mutate(data)
    try:
        build_program(data)
    except ProgramInvalid as err:
        assert len(err.problems) == 1, err.problems


def test_a_window_starting_feb_29_overlaps_one_ending_feb_28_in_common_years():
    """collection 01-01..02-28 then municipal 02-29..04-30 overlap by one day in 2027; the loader must say so."""
    data = shipped_data()
    data["windows"]["collection"]["end"] = "02-28"
    data["windows"]["municipal"]["start"] = "02-29"
    try:
        built = build_program(data)
    except ProgramInvalid as err:
        assert any("overlap" in p for p in err.problems)
    else:
        # accepted: then the windows it computes must not overlap in any year
        assert built.window("municipal_review", 2027).opens >= built.window("collection", 2027).closes


def test_what_a_program_works_out_once_is_its_own_whatever_program_came_before(tmp_path, monkeypatch):
    """Programs are loaded again and again (each command; a changed program file), and a new one
    can take the memory, and so the id(), of one gone: a window or quota worked out once was kept
    in a table keyed by that id, and a Henan cycle was refused submissions in March with the G60
    window (Jan–Feb). Here every object has the same id, the worst case of that reuse: each
    program still answers with its own window, and each version of a file with its own quotas."""
    import workflow.engine
    import workflow.program.model

    for module in (workflow.program.model, workflow.engine):
        monkeypatch.setattr(module, "id", lambda obj: 1, raising=False)
    g60 = ProgramRegistry([SHIPPED.parent]).get(PROGRAM_ID)
    henan = ProgramRegistry([SHIPPED.parent]).get("kechuang-zhongyuan")
    for program in (g60, henan, g60):
        first = program.stages[0]
        assert first.window is not None
        assert program.window(first.id, 2027) == first.window.for_year(2027, program.timezone)
    assert g60.window(g60.stages[0].id, 2027) != henan.window(henan.stages[0].id, 2027)

    # the same file changed (Songjiang's demonstration quota 10 -> 3), the same cycle
    changed = SHIPPED.read_text(encoding="utf-8").replace(
        "[quotas.songjiang]\ndemonstration = 10", "[quotas.songjiang]\ndemonstration = 3"
    )
    (tmp_path / f"{PROGRAM_ID}.toml").write_text(changed, encoding="utf-8")
    edited = ProgramRegistry([tmp_path]).get(PROGRAM_ID)
    for program, quota in ((g60, 10), (edited, 3), (g60, 10)):  # (one cycle, no quotas of its own)
        assert program.cycle_quotas("g60-2027", None)["songjiang"]["demonstration"] == quota


def test_policy_parameter_may_be_one_or_more():
    """registered_in_corridor's min_party_members is a whole number ≥ 1: 1 loads, and so does leaving it out."""
    data = shipped_data()
    data["policies"]["registered_in_corridor"]["min_party_members"] = 1
    assert build_program(data).policy_params["registered_in_corridor"] == {"min_party_members": 1}
    del data["policies"]["registered_in_corridor"]
    assert "registered_in_corridor" not in build_program(data).policy_params
