"""The soak run's make-up: every benchmarked endpoint takes part, and the
clients are shared out exactly."""
import pytest

from bench import load, soak
from bench.generate import agenda_reviews_per_meeting


def test_every_endpoint_is_in_the_soak_mix():
    names = {endpoint.name for endpoint in [load.CEILING, *load.ENDPOINTS]}
    assert set(soak.MIX) == names
    assert sum(soak.MIX.values()) == 100


@pytest.mark.parametrize("total", [len(soak.MIX), 200, 201, 1000])
def test_clients_are_shared_out_exactly(total):
    groups = soak.connections_per_endpoint(total)
    assert sum(groups.values()) == total
    assert min(groups.values()) >= 1


def test_agenda_reviews_grow_with_the_cases_up_to_a_session():
    assert agenda_reviews_per_meeting(10_000) == 2
    assert agenda_reviews_per_meeting(100_000) == 7
    assert agenda_reviews_per_meeting(1_000_000) == 24
