"""The loader's `[scoring]`: own_party and the analysis's settings; every mistake named with the
others (exit code 8), a value of the wrong type a problem, never a traceback."""

from __future__ import annotations

import pytest

from tests.workflow.test_program import PROGRAM_ID, problems_of, shipped_data
from workflow.analysis import AnalysisSettings
from workflow.program import ProgramRegistry, build_program


def test_the_shipped_programs_scoring():
    g60 = ProgramRegistry().get(PROGRAM_ID)
    assert g60.own_party == "scores"  # (its document: every city scores every project)
    assert g60.analysis == AnalysisSettings(confidence=0.95, outlier_z=3.5, least_offset=2.0)
    # a program without the section: its own projects scored and counted, the default analysis
    data = shipped_data()
    del data["scoring"]
    program = build_program(data)
    assert (program.own_party, program.analysis) == ("scores", AnalysisSettings())


def test_a_cycle_may_recuse_or_exclude_in_the_file():
    for own in ("recused", "excluded"):
        data = shipped_data()
        data["scoring"]["own_party"] = own
        assert build_program(data).own_party == own


@pytest.mark.parametrize(
    ("scoring", "expected"),
    [
        ({"own_party": "abstains"}, ["[scoring] own_party = 'abstains' must be scores, recused or excluded"]),
        ({"own_party": 1}, ["[scoring] own_party = 1 must be scores, recused or excluded"]),
        ({"own": "scores"}, ["[scoring] 'own' is not a setting (own_party, analysis)"]),
        ({"analysis": 3}, ["[scoring.analysis] must be a table, not 3"]),
        (
            {"analysis": {"confidence": 1.0, "outlier_z": 0, "least_offset": -1, "alpha": 0.05}},
            [
                "[scoring.analysis] confidence = 1.0 is out of range",
                "[scoring.analysis] outlier_z = 0 is out of range",
                "[scoring.analysis] least_offset = -1 is out of range",
                "[scoring.analysis] 'alpha' is not a setting (confidence, outlier_z, least_offset)",
            ],
        ),
        (
            {"analysis": {"confidence": "95%", "least_offset": True}},
            [
                "[scoring.analysis] confidence = '95%' is out of range",
                "[scoring.analysis] least_offset = True is out of range",
            ],
        ),
    ],
)
def test_each_scoring_problem_is_named(scoring, expected):
    data = shipped_data()
    data["scoring"] = scoring
    err = problems_of(data)
    assert err.exit_code == 8
    assert list(err.problems) == expected
