"""A cycle's settings, typed (CycleSettings), read and written back as the JSON they always were;
a list version's statuses change only along LIST_CHANGES."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from policies.appeals import Override
from workflow.records import LIST_CHANGES, LIST_LOG, Correction, Cycle, CycleSettings, ListStatus

STORED = {
    "places": {"a": 2, "b": 3},
    "quotas": {"x": {"r": 1}},
    "overrides": [
        {
            "id": 1,
            "rule": "r",
            "reason": "why",
            "by": "lead",
            "at": "2027-01-01T00:00:00+00:00",
            "city": None,
            "project": None,
            "revoked": None,
        },
    ],
    "note": "kept",
}


def _cycle(settings: dict) -> Cycle:
    return Cycle("c-2027", "p", 1, "d", 2027, "s", settings=settings)


def test_settings_read_typed_and_written_back_word_for_word() -> None:
    cycle = _cycle(dict(STORED))
    config = cycle.config
    assert config.places == {"a": 2, "b": 3} and config.quotas == {"x": {"r": 1}}
    assert config.overrides == (Override.from_data(STORED["overrides"][0]),)
    assert config.correction is None and config.published_at is None
    assert config.to_data(STORED) == STORED and list(config.to_data(STORED)) == list(STORED)


def test_a_change_keeps_every_key_in_its_place_and_adds_new_ones_last() -> None:
    cycle = _cycle(dict(STORED))
    at = datetime(2027, 5, 1, tzinfo=UTC)
    cycle.config = dataclasses.replace(cycle.config, correction=Correction("listing", 1, (7,), at.isoformat()))
    assert list(cycle.settings) == [*STORED, "correction"]
    assert cycle.settings["correction"] == {"stage": "listing", "list": 1, "appeals": [7], "opened_at": at.isoformat()}
    cycle.config = dataclasses.replace(cycle.config, correction=None, published_at=at)
    assert list(cycle.settings) == [*STORED, "published_at"] and cycle.settings["published_at"] == at.isoformat()
    assert cycle.config.published_at == at


def test_a_new_cycle_stores_its_places_and_quotas_only() -> None:
    assert CycleSettings(places={"a": 1}).to_data({}) == {"places": {"a": 1}, "quotas": {}}


@pytest.mark.parametrize("status", list(ListStatus), ids=str)
def test_every_list_status_has_its_changes_and_its_audit_action(status: ListStatus) -> None:
    assert status in LIST_CHANGES and status in LIST_LOG
    assert all(to != status for to in LIST_CHANGES[status])


def test_the_final_list_statuses_go_nowhere() -> None:
    assert not LIST_CHANGES[ListStatus.SUPERSEDED] and not LIST_CHANGES[ListStatus.CORRECTED]
    assert LIST_CHANGES[ListStatus.PUBLISHED] == {ListStatus.CORRECTED}
