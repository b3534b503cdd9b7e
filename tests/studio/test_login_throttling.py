"""Wrong passwords are throttled per account and per client address (django-axes)."""

import pytest
from django.urls import reverse

from tests.conftest import make_user


@pytest.fixture
def keeper(db):
    return make_user("keeper")


def attempt(client, username, password, address="203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_a_guessed_password_is_refused_after_the_limit_even_when_right(client, keeper, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "keeper", "wrong").status_code == 200  # the form, with its error
    assert attempt(client, "keeper", "wrong").status_code == 429  # the last one allowed
    locked = attempt(client, "keeper", "pw-keeper")
    assert locked.status_code == 429 and "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_every_address(client, keeper, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "keeper", "wrong", address=f"198.51.100.{n}")
    assert attempt(client, "keeper", "pw-keeper", address="192.0.2.99").status_code == 429


def test_one_address_guessing_many_accounts_is_locked(client, db, settings):
    other = make_user("other")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"nobody-{n}", "wrong")
    assert attempt(client, other.username, "pw-other").status_code == 429
    # Someone else, elsewhere, still logs in.
    response = attempt(client, other.username, "pw-other", address="192.0.2.50")
    assert response.status_code == 302


def test_a_right_password_before_the_limit_logs_in_and_resets(client, keeper, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "keeper", "wrong")
    assert attempt(client, "keeper", "pw-keeper").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "keeper", "wrong")
    assert attempt(client, "keeper", "pw-keeper").status_code == 302
