"""Accounts: reset a forgotten password by email, change it, change the email it goes to."""

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.conftest import make_user
from tests.studio.test_pages_a11y import check

NEW = "lighthouse-keeper-9"


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, db):
    user = make_user("mara")
    user.email = "mara@example.com"
    user.save()
    login = client.get(reverse("login")).content.decode()
    assert reverse("teams:password_reset") in login
    check(client.get(reverse("teams:password_reset")).content.decode())
    response = client.post(reverse("teams:password_reset"), {"email": "mara@example.com"})
    assert response["Location"] == reverse("teams:password_reset_done")
    [message] = mail.outbox
    assert message.to == ["mara@example.com"] and message.subject == "Reset your Slate password"
    link = re.search(r"http://testserver(/account/reset/\S+/\S+/)", message.body)[1]
    form_page = client.get(link, follow=True)
    assert b"New password" in form_page.content
    check(form_page.content.decode())
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}
    )
    assert done["Location"] == reverse("teams:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert b"has been used or has expired" in client.get(link, follow=True).content


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, db):
    response = client.post(reverse("teams:password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("teams:password_reset_done")
    assert not mail.outbox


def test_a_member_changes_their_password(client_for, db):
    user = make_user("jon")
    client = client_for(user)
    page = client.get(reverse("teams:password_change"))
    check(page.content.decode())
    wrong = client.post(
        reverse("teams:password_change"),
        {"old_password": "nope", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 200 and b'role="alert"' in wrong.content
    response = client.post(
        reverse("teams:password_change"),
        {"old_password": "pw-jon", "new_password1": NEW, "new_password2": NEW},
    )
    assert response["Location"] == reverse("teams:password_change_done")
    assert client.get(reverse("teams:account")).status_code == 200  # still logged in
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_a_member_changes_their_email_with_their_password(client_for, db):
    user = make_user("ana")
    client = client_for(user)
    page = client.get(reverse("teams:account"))
    assert page.status_code == 200
    check(page.content.decode())
    wrong = client.post(reverse("teams:account"), {"email": "a@example.com", "password": "x"})
    assert wrong.status_code == 400 and b"That is not your password" in wrong.content
    bad = client.post(reverse("teams:account"), {"email": "nope", "password": "pw-ana"})
    assert bad.status_code == 400
    assert get_user_model().objects.get(pk=user.pk).email == ""
    ok = client.post(reverse("teams:account"), {"email": "ana@example.com", "password": "pw-ana"})
    assert ok["Location"] == reverse("teams:account")
    assert get_user_model().objects.get(pk=user.pk).email == "ana@example.com"


def test_account_pages_need_a_log_in(client, db):
    for name in ("teams:account", "teams:password_change"):
        assert client.get(reverse(name))["Location"].startswith("/login/")


def test_signing_up_may_give_an_email(client, db):
    client.post(
        reverse("signup"),
        {"username": "eve", "email": "eve@example.com", "password1": NEW, "password2": NEW},
    )
    assert get_user_model().objects.get(username="eve").email == "eve@example.com"
