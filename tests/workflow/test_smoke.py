from tests.conftest import LEAD, to_recommendation


def test_fixture_reaches_recommendation(engine, clock, cycle):
    demos = to_recommendation(engine, clock)
    assert engine.get_cycle(None).stage == "recommendation"
    assert all(len(v) == 5 for v in demos.values())
    assert engine.status(LEAD)["stage"] == "recommendation"
