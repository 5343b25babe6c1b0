"""The mediator store: each mediator's dashboard language (Italian until they choose English)."""

from __future__ import annotations

import pytest

from bot.adapters.sql.mediators import SqlMediatorStore
from bot.core.errors import MediatorError
from bot.core.tickets import Role

PASSWORD = "a long password 123"


async def test_a_new_mediator_reads_the_dashboard_in_italian(mediators: SqlMediatorStore) -> None:
    anna = await mediators.add("anna@example.org", "Anna", Role.MEDIATOR, ["caserta"], ["ar"], PASSWORD)
    assert anna.language == "it"
    assert (await mediators.authenticate("anna@example.org", PASSWORD)).language == "it"  # type: ignore[union-attr]


async def test_the_chosen_language_is_kept_for_the_next_session(mediators: SqlMediatorStore) -> None:
    anna = await mediators.add("anna@example.org", "Anna", Role.MEDIATOR, ["caserta"], ["ar"], PASSWORD)
    marco = await mediators.add("marco@example.org", "Marco", Role.MEDIATOR, ["caserta"], ["it"], PASSWORD)
    assert (await mediators.set_language(anna.id, "en")).language == "en"
    session_id, _ = await mediators.start_session(anna)
    found = await mediators.session(session_id)
    assert found is not None and found[0].language == "en"
    assert (await mediators.get(marco.id)).language == "it"  # type: ignore[union-attr]
    assert (await mediators.set_language(anna.id, "it")).language == "it"


async def test_only_italian_and_english(mediators: SqlMediatorStore) -> None:
    anna = await mediators.add("anna@example.org", "Anna", Role.MEDIATOR, ["caserta"], ["ar"], PASSWORD)
    with pytest.raises(MediatorError):
        await mediators.set_language(anna.id, "ar")
    with pytest.raises(MediatorError):
        await mediators.set_language(anna.id + 100, "en")
    assert (await mediators.get(anna.id)).language == "it"  # type: ignore[union-attr]
