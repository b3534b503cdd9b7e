"""Owners set budgets on the budget page; everyone reads usage, with charts and CSV."""

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from studio import budgets, takes
from studio.models import Budget, MemberCap, Membership, Status
from studio.prompts import Shot
from teams.models import AuditAction, AuditEntry


def queue(workspace, user=None, seconds=4):
    return takes.queue_take(
        workspace,
        Shot(subject="a lighthouse"),
        provider="openai",
        model="sora-2",
        size="1280x720",
        seconds=seconds,
        created_by=user,
    )


def save(client, **data):
    data = {"monthly": "", "thresholds": "50, 80, 100", "time_zone": "UTC", **data}
    return client.post(reverse("teams:budget_save", args=["harbour"]), data)


def test_an_owner_sets_the_cap_and_the_audit_log_says_so(client_for, personas, workspace):
    client = client_for(personas["owner"])
    response = save(client, monthly="250", thresholds="50 90", time_zone="Europe/Paris")
    assert response.status_code == 302
    budget = Budget.objects.get(workspace=workspace)
    assert (budget.monthly_cap, budget.thresholds, budget.time_zone) == (
        Decimal("250.00"),
        [50, 90],
        "Europe/Paris",
    )
    details = sorted(AuditEntry.objects.filter(action=AuditAction.BUDGET_CHANGED).values_list(
        "detail", flat=True
    ))  # fmt: skip
    assert details == [
        "alerts at 50%, 90%",
        "monthly cap no cap → $250.00",
        "time zone UTC → Europe/Paris",
    ]
    page = client.get(reverse("teams:budget", args=["harbour"])).content.decode()
    assert "$250.00" in page and "Europe/Paris" in page


@pytest.mark.parametrize(
    "field, typed, says",
    [
        ("monthly", "-10", "can't be negative"),
        ("monthly", "99999999", "surely a typo"),
        ("monthly", "ten", "is not an amount"),
        ("thresholds", "50, 300", "from 1 to 100"),
        ("time_zone", "Mars/Olympus", "is not a time zone"),
    ],
)
def test_bad_budget_input_says_why_and_stores_nothing(client_for, personas, field, typed, says):
    response = save(client_for(personas["owner"]), **{field: typed})
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert says in text
    assert f'value="{typed}"' in text  # what was typed stays in the form
    assert not Budget.objects.exists() and not AuditEntry.objects.exists()


def test_an_owner_sets_and_removes_a_members_cap(client_for, personas, workspace):
    client = client_for(personas["owner"])
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    url = reverse("teams:member_cap", args=["harbour", editor.pk])
    assert client.post(url, {"monthly": "20"}).status_code == 302
    assert MemberCap.objects.get().monthly_cap == Decimal("20.00")
    assert client.post(url, {"monthly": "-1"}).status_code == 400
    assert client.post(url, {"monthly": ""}).status_code == 302
    assert not MemberCap.objects.exists()
    assert [e.target for e in AuditEntry.objects.all()] == ["editor", "editor"]


def test_editors_read_the_budget_but_have_no_controls(client_for, personas, workspace):
    budgets.set_budget(workspace, monthly_cap=Decimal("5"))
    page = client_for(personas["editor"]).get(reverse("teams:budget", args=["harbour"]))
    text = page.content.decode()
    assert "$5.00" in text and 'id="budget-form"' not in text


def test_the_budget_page_shows_the_months_alerts(client_for, personas, workspace, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("0.80"))
    queue(workspace, personas["editor"])
    text = client_for(personas["owner"]).get(reverse("teams:budget", args=["harbour"]))
    text = text.content.decode()
    assert "50 % of the $0.80 cap reached" in text
    assert "80 %" not in text.split('id="budget-alerts"')[1].split("</ul>")[0]


def test_usage_adds_up_per_day_member_model_and_status(
    client_for, personas, workspace, priced, django_assert_max_num_queries
):
    queue(workspace, personas["editor"])
    queue(workspace, personas["owner"], seconds=8)
    failed = queue(workspace, personas["editor"])
    takes.end(failed.pk, Status.FAILED, "boom", "provider_error")
    client = client_for(personas["viewer"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("teams:usage", args=["harbour"]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in text and text.count("<rect") >= 2  # a bar and the legend's swatch
    assert "$1.20" in text  # 0.40 + 0.80; the failed take costs nothing
    members = text.split('id="usage-members"')[1].split("</table>")[0]
    assert "owner" in members and "$0.80" in members and "$0.40" in members
    statuses = text.split('id="usage-statuses"')[1].split("</table>")[0]
    assert "Failed" in statuses and "$0.00" in statuses


def test_usage_csv_and_month_picker(client_for, personas, workspace, priced):
    queue(workspace, personas["editor"])
    client = client_for(personas["editor"])
    month = budgets.month_of(None).key
    csv = client.get(reverse("teams:usage_csv", args=["harbour"]), {"month": month})
    lines = csv.content.decode().splitlines()
    assert lines[0] == "day,member,model,takes,spend USD"
    assert lines[1].endswith(",editor,sora-2,1,0.4000")
    empty = client.get(reverse("teams:usage", args=["harbour"]), {"month": "2020-01"})
    assert "January 2020" in empty.content.decode() and "$0.00" in empty.content.decode()
    assert "February 2020 →" in empty.content.decode()  # a later month that has begun
    now = client.get(reverse("teams:usage", args=["harbour"]), {"month": month}).content.decode()
    assert "→</a>" not in now  # none into months that haven't begun
    bad = client.get(reverse("teams:usage", args=["harbour"]), {"month": "2020-13"})
    assert bad.status_code == 400 and "is not a month" in bad.content.decode()


def test_usage_without_spend_says_so_instead_of_an_empty_chart(
    client_for, personas, workspace, priced
):
    client = client_for(personas["viewer"])
    text = client.get(reverse("teams:usage", args=["harbour"])).content.decode()
    assert "<svg" not in text.split('id="days-heading"')[1].split("</section>")[0]
    assert "No spend yet this period" in text and 'id="usage-empty"' in text
    past = client.get(reverse("teams:usage", args=["harbour"]), {"month": "2020-01"})
    assert "No spend in January 2020." in past.content.decode()
    free = queue(workspace, personas["editor"])
    takes.end(free.pk, Status.FAILED, "boom", "provider_error")
    text = client.get(reverse("teams:usage", args=["harbour"])).content.decode()
    assert "1 take cost nothing" in text and 'id="usage-chart"' not in text


def test_usage_is_a_404_for_outsiders(client_for, personas):
    client = client_for(personas["outsider"])
    assert client.get(reverse("teams:usage", args=["harbour"])).status_code == 404
    assert client.get(reverse("teams:usage_csv", args=["harbour"])).status_code == 404
