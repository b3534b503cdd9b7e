"""A workspace's currency: the ledger stays in the price list's US dollars; pages, caps,
filters, reports and the shell read the workspace's currency at its owners' rate."""

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse

from studio import budgets, money, takes
from studio.models import Budget, LedgerEntry, Take, Workspace
from studio.prompts import Shot
from teams.models import AuditAction, AuditEntry
from tests.library.helpers import make_take

TAKE = Decimal("0.40")  # sora-2, 1280x720, 4 s at $0.10 a second


@pytest.fixture
def euros(workspace):
    workspace.currency, workspace.rate = "EUR", Decimal("0.9")
    workspace.save()
    return workspace


def queue(workspace, user=None):
    return takes.queue_take(
        workspace,
        Shot(subject="a lighthouse"),
        provider="openai",
        model="sora-2",
        size="1280x720",
        seconds=4,
        created_by=user,
    )


def in_(code, rate="1"):
    return SimpleNamespace(currency=code, rate=Decimal(rate))


@pytest.mark.parametrize(
    "amount, code, shown",
    [
        ("0.37", "USD", "$0.37"),
        ("1250.5", "USD", "$1,250.50"),
        ("0.365", "EUR", "€0.37"),
        ("55.4", "JPY", "¥55"),  # no cents in yen
        ("0.37", "CHF", "CHF 0.37"),  # no symbol of its own: the code
        ("-2", "GBP", "-£2.00"),
    ],
)
def test_amounts_are_written_with_the_currencys_symbol_or_code(amount, code, shown):
    assert money.format(Decimal(amount), in_(code)) == shown


def test_ledger_dollars_are_converted_at_the_workspaces_rate():
    assert money.show(TAKE, in_("EUR", "0.9")) == "€0.36"
    assert money.show(TAKE, in_("JPY", "150")) == "¥60"
    assert money.show(TAKE, None) == "$0.40"  # no workspace: the ledger's dollars
    assert money.show(Decimal("0.1345"), in_("USD"), fine=True) == "$0.1345"  # a price a second


def test_a_eur_workspace_shows_a_40_cent_take_as_36_euro_cents(client_for, personas, euros, priced):
    client = client_for(personas["editor"])
    panel = client.post(
        reverse("compose_settings", args=["harbour"]),
        {"provider": "openai", "model": "sora-2", "size": "1280x720", "seconds": "4"},
    ).content.decode()
    assert "Estimated cost <strong>€0.36</strong>" in panel and "4 s × €0.09/s" in panel
    assert "$" not in panel.split('id="cost-estimate"')[1].split("</span>")[0]
    take = queue(euros, personas["editor"])
    assert take.estimate == TAKE  # the ledger keeps dollars
    page = client.get(reverse("take", args=[take.pk])).content.decode()
    assert "~€0.36" in page and "~$0.40" not in page


def test_a_one_euro_cap_is_checked_after_conversion(euros, personas, priced):
    budgets.set_budget(euros, monthly_cap=Decimal("1.00"))
    queue(euros, personas["editor"])
    queue(euros, personas["editor"])  # $0.80 held: €0.72
    with pytest.raises(budgets.OverBudget) as refused:
        queue(euros, personas["editor"])  # €1.08 would pass €1.00
    message = str(refused.value)
    assert "would cost €0.36" in message
    assert "monthly cap of €1.00 has €0.28 left" in message
    assert Take.objects.count() == LedgerEntry.objects.count() == 2


def test_a_cap_in_euros_lets_through_what_dollars_would_not(euros, personas, priced):
    """Two $0.40 takes are €0.72: a €0.72 cap holds both (in dollars, 0.80 > 0.72)."""
    budgets.set_budget(euros, monthly_cap=Decimal("0.72"))
    queue(euros, personas["editor"])
    queue(euros, personas["editor"])
    with pytest.raises(budgets.OverBudget):
        queue(euros, personas["editor"])
    assert Take.objects.count() == 2


def settings_of(client, **data):
    data = {"name": "Harbour Films", "slug": "harbour", **data}
    return client.post(reverse("teams:settings", args=["harbour"]), data)


def test_an_owner_sets_the_currency_and_rate_and_the_audit_log_says_so(
    client_for, personas, workspace
):
    client = client_for(personas["owner"])
    assert settings_of(client, currency="eur", rate="0.92").status_code == 302
    workspace.refresh_from_db()
    assert (workspace.currency, workspace.rate) == ("EUR", Decimal("0.92"))
    detail = AuditEntry.objects.get(action=AuditAction.SETTINGS_CHANGED).detail
    assert "currency: USD → EUR" in detail and detail.endswith("rate: 1 → 0.92")
    page = client.get(reverse("teams:members", args=["harbour"])).content.decode()
    assert 'value="EUR"' in page and 'value="0.92"' in page
    assert settings_of(client, currency="USD").status_code == 302  # back to dollars: rate 1
    workspace.refresh_from_db()
    assert (workspace.currency, workspace.rate) == ("USD", Decimal("1"))


@pytest.mark.parametrize(
    "currency, rate, problem",
    [
        ("EURO", "0.9", "is not a currency"),
        ("XYZ", "0.9", "is not a currency"),
        ("EUR", "0", "must be above 0"),
        ("EUR", "-1", "is not a rate"),
        ("EUR", "1e3", "is not a rate"),
        ("EUR", "lots", "is not a rate"),
        ("EUR", "5000000", "surely a typo"),
        ("EUR", "0.1234567", "six decimals"),
        ("USD", "0.9", "rate is 1"),
        ("EUR", "", "Give the rate of EUR"),
    ],
)
def test_bad_currency_or_rate_is_refused_and_stores_nothing(
    client_for, personas, workspace, currency, rate, problem
):
    response = settings_of(
        client_for(personas["owner"]), name="Renamed", currency=currency, rate=rate
    )
    assert response.status_code == 400
    assert problem in response.content.decode()
    workspace.refresh_from_db()
    assert (workspace.name, workspace.currency, workspace.rate) == ("Harbour Films", "USD", 1)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_only_owners_change_the_currency(client_for, personas, workspace, who):
    response = settings_of(client_for(personas[who]), currency="EUR", rate="0.9")
    assert response.status_code == 403
    assert Workspace.objects.get(pk=workspace.pk).currency == "USD"


def test_caps_are_typed_and_shown_in_the_workspaces_currency(client_for, personas, euros):
    client = client_for(personas["owner"])
    data = {"monthly": "€5", "thresholds": "50, 80, 100", "time_zone": "UTC"}
    assert client.post(reverse("teams:budget_save", args=["harbour"]), data).status_code == 302
    assert Budget.objects.get().monthly_cap == Decimal("5.00")
    page = client.get(reverse("teams:budget", args=["harbour"])).content.decode()
    assert "Monthly cap (€, EUR)" in page and "€5.00" in page and "$" not in page
    data["monthly"] = "$5"  # another currency's amount is no amount here
    response = client.post(reverse("teams:budget_save", args=["harbour"]), data)
    assert response.status_code == 400 and "write EUR" in response.content.decode()


def test_usage_page_csv_and_shell_say_the_currency(client_for, personas, euros, priced, capsys):
    queue(euros, personas["editor"])
    client = client_for(personas["viewer"])
    page = client.get(reverse("teams:usage", args=["harbour"])).content.decode()
    assert "€0.36" in page
    csv = client.get(reverse("teams:usage_csv", args=["harbour"])).content.decode()
    header, row = csv.splitlines()[:2]
    assert header == "day,member,model,takes,spend EUR" and row.endswith(",0.3600")
    call_command("usage", "harbour", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["currency"] == "EUR" and Decimal(report["total"]) == Decimal("0.36")
    call_command("budget", "set", "harbour", "--monthly", "7.50", "--json")
    result = json.loads(capsys.readouterr().out)
    assert (result["currency"], result["cap"], result["spent"]) == ("EUR", "7.50", "0.3600")


def test_gallery_cost_filters_read_the_workspaces_currency(client_for, personas, euros):
    cheap = make_take(euros, "cheap", estimate=TAKE)  # €0.36
    dear = make_take(euros, "dear", estimate=Decimal("2.00"))  # €1.80
    client = client_for(personas["viewer"])

    def shown(**params):
        response = client.get(reverse("library:gallery", args=["harbour"]), params)
        assert not response.context["filters"].problems
        return {t.pk for t in response.context["takes"]}

    assert shown(max_cost="0.36") == {cheap.pk}
    assert shown(max_cost="0.35") == set()
    assert shown(min_cost="€1.80") == {dear.pk}
    page = client.get(reverse("library:gallery", args=["harbour"])).content.decode()
    assert "Cost up to (€, EUR)" in page
