"""A cycle's list places: the program's categories by default, changed per cycle with --places."""

from __future__ import annotations

from pathlib import Path

from store.sql import SqlStore
from tests.cli.test_full_cycle import Cli
from tests.conftest import snapshot

WHEN = "2027-01-02T09:00"


def lead_only(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "e.db")
    cli(None, WHEN, "init")
    cli(None, WHEN, "user", "add", "lead", "--role", "lead", "--city", "songjiang")
    return cli


def test_places_default_to_the_programs_categories_and_can_be_changed(tmp_path: Path) -> None:
    cli = lead_only(tmp_path)
    cli("lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--places", "demonstration=12")
    store = SqlStore(cli.url)
    with store.transaction(write=False) as tx:
        cycle = tx.get_cycle("g60-2027")
    store.dispose()
    assert cycle.settings["places"] == {"demonstration": 12, "excellent": 20}


def test_an_unknown_category_or_a_bad_number_is_refused_and_opens_nothing(tmp_path: Path) -> None:
    cli = lead_only(tmp_path)
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli("lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--places", "gold=3", code=7)
    assert "'gold' is not a list category of g60-deep-integration (demonstration, excellent)" in out
    out = cli(
        "lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--places", "excellent=many", code=2
    )
    assert "--places 'excellent=many': expected CATEGORY=N with N a whole number" in out
    out = cli(
        "lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--places", "excellent=²", code=2
    )
    assert "--places 'excellent=²': expected CATEGORY=N with N a whole number" in out  # (a digit, not a number)
    out = cli(
        "lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--places", "excellent=1000000", code=2
    )
    assert "--places 'excellent=1000000': expected CATEGORY=N with N a whole number" in out  # (a slip: 7 digits)
    assert snapshot(store) == before
    store.dispose()


def test_category_places_options_name_any_programs_category(tmp_path: Path) -> None:
    """--CATEGORY-places N (the older spelling of --places CATEGORY=N) works for every program's
    categories; an unknown option, or a category the program lacks, opens nothing."""
    cli = lead_only(tmp_path)
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli("lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--bogus", "3", code=2)
    assert "No such option" in out and "--bogus" in out
    out = cli("lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--gold-places", "3", code=7)
    assert "'gold' is not a list category of g60-deep-integration (demonstration, excellent)" in out
    out = cli(
        "lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--excellent-places", "-1", code=2
    )
    assert "Invalid value for '--excellent-places'" in out
    assert snapshot(store) == before
    cli("lead", WHEN, "cycle", "open", "kechuang-zhongyuan", "--year", "2027", "--selected-places=4")
    with store.transaction(write=False) as tx:
        cycle = tx.get_cycle("kczy-2027")
    store.dispose()
    assert cycle is not None and cycle.settings["places"] == {"selected": 4}


def test_help_shows_the_category_places_options(tmp_path: Path) -> None:
    """The README's --demonstration-places and --excellent-places are in `cycle open --help`, after
    --places: one line for each list category of the program files, then the general form."""
    out = Cli(tmp_path / "e.db")(None, WHEN, "cycle", "open", "--help")
    shown = [line.split()[0] for line in out.splitlines() if line.startswith("  --")]
    assert shown[:4] == ["--year", "--places", "--demonstration-places", "--excellent-places"]
    assert "--selected-places" in shown and shown.index("--CATEGORY-places") == shown.index("--quota") - 1
    text = " ".join(out.split())
    assert (
        "--demonstration-places N g60-deep-integration: places of G60深度融合示范项目 (as --places demonstration=N)."
        in text
    )
    assert "--excellent-places N g60-deep-integration: places of G60深度融合优秀项目 (as --places excellent=N)." in text
    assert "Places of any list category of the program (as --places CATEGORY=N)." in text


def test_a_cycle_opens_with_what_a_city_does_on_its_own_projects(tmp_path: Path) -> None:
    """--own-party: recorded in the cycle and said when it is not simply "scores"; by default the
    program's (G60: every city scores every project, its own included); a wrong word opens nothing."""
    cli = lead_only(tmp_path)
    store = SqlStore(cli.url)
    before = snapshot(store)
    out = cli("lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--own-party", "maybe", code=2)
    assert "Invalid value for '--own-party': 'maybe' is not one of 'scores', 'recused', 'excluded'." in out
    assert snapshot(store) == before
    out = cli(
        "lead",
        WHEN,
        "--lang",
        "en",
        "cycle",
        "open",
        "g60-deep-integration",
        "--year",
        "2027",
        "--own-party",
        "recused",
    )
    assert out.splitlines()[-1] == (
        "Own projects recused: a city may not score its own projects, and no sheet of it is awaited there"
    )
    out = cli("lead", WHEN, "--lang", "zh", "cycle", "open", "g60-deep-integration", "--year", "2028")
    assert len(out.splitlines()) == 1  # (the program's default: nothing more to say)
    with store.transaction(write=False) as tx:
        assert tx.get_cycle("g60-2027").config.own_party == "recused"
        assert tx.get_cycle("g60-2028").config.own_party == "scores"
    store.dispose()


def test_full_width_digits_are_read_as_digits(tmp_path: Path) -> None:
    """A Chinese input method types １２ for 12: the places are read alike (``--places`` here, the
    API's ``places`` and the console's what-if through the same reading, workflow.inputs)."""
    cli = lead_only(tmp_path)
    cli("lead", WHEN, "cycle", "open", "g60-deep-integration", "--year", "2027", "--places", "excellent=２０")
    store = SqlStore(cli.url)
    with store.transaction(write=False) as tx:
        assert tx.get_cycle("g60-2027").settings["places"]["excellent"] == 20
    store.dispose()
