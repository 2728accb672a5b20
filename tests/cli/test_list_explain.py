"""`evalflow list explain` and `list propose --dry-run --places`, on the prebuilt cycle at
confirmation (2 high projects at 94, 3 mid at 78, 40 low at 62; places 2 and 3): what the lead
reads, in English word for word and in Chinese; a city refused; nothing saved by a dry run."""

from __future__ import annotations

from tests.cli.test_appeals_cli import open_cli, snap
from tests.conftest import LEAD, admin
from tests.workflow import checkpoints

at_stage = checkpoints.at_stage
stage_templates = checkpoints.stage_templates
NOW = "2027-05-20T10:00"


def test_the_lead_reads_why_a_project_holds_its_rank(at_stage):
    s = at_stage("confirmation")
    top_mid = min(s.mid)
    cli = open_cli(s)
    out = cli(LEAD, NOW, "--lang", "en", "list", "explain", str(top_mid)).splitlines()
    assert out[0].startswith(f"Project {top_mid} 《") and out[0].endswith("), cycle g60-2027")
    assert out[1].startswith("  sheets: songjiang 78, ") and out[1].count(" 78") == 9
    assert out[2] == "  score 78.0000: the mean of 9 sheets"
    assert out[3] == "  rank 3 of 45: excellent (places: demonstration 2, excellent 3)"
    assert out[4].startswith(f"  nearest boundary: after place 2 (demonstration | excellent); project {max(s.high)} 《")
    assert out[4].endswith("》, last above it, has 94.0000, 16.0000 more")
    others = ", ".join(str(p) for p in sorted(s.mid) if p != top_mid)
    assert (
        out[5] == f"  tied at 78.0000 with projects {others}: ordered by project id: the tie crosses no place boundary"
    )
    assert out[6] == "  no list version yet"
    zh = cli(LEAD, NOW, "--lang", "zh", "list", "explain", str(top_mid))
    assert "第 3 名（共 45 个）：G60深度融合优秀项目（名额：G60深度融合示范项目 2 名、G60深度融合优秀项目 3 名）" in zh


def test_a_dry_run_names_the_moves_under_other_places_and_saves_nothing(at_stage):
    s = at_stage("confirmation")
    cli = open_cli(s)
    before = snap(cli)
    out = cli(LEAD, NOW, "--lang", "en", "list", "propose", "--dry-run", "--places", "excellent=2").splitlines()
    assert out[0] == (
        "What if the places were demonstration 2, excellent 2 (now demonstration 2, excellent 3), cycle g60-2027,"
        " from the current sheets; nothing is saved"
    )
    assert out[1] == "  1 projects would change category:"
    assert out[2].startswith(f"    #{max(s.mid)} ") and out[2].endswith("rank 5, 78.0000: excellent → none")
    assert out[3].startswith("  to settle: projects ") and "are tied at 78.0000" in out[3]
    out = cli(LEAD, NOW, "--lang", "en", "list", "propose", "--places", "excellent=2", code=2)
    assert "--places is tried with --dry-run: a cycle's places are set when it is opened" in out
    out = cli(LEAD, NOW, "--lang", "en", "list", "propose", "--dry-run", "--places", "gold=1", code=7)
    assert "'gold' is not a list category of g60-deep-integration (demonstration, excellent)" in out
    out = cli(admin("hefei"), NOW, "--lang", "en", "list", "explain", str(s.shortlist[0]), code=4)
    assert "the workings of the ranking show every city's sheets; the lead reads them" in out
    assert snap(cli) == before
