"""Monthly budgets: a hold past a cap is refused before anything is queued, alerts fire once."""

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from studio import budgets, ledger, takes, usage
from studio.models import Budget, BudgetAlert, LedgerEntry, Status, Take
from studio.prompts import Shot
from tests.studio.test_scale_out import database_url  # noqa: F401 (a fixture)
from tests.support.processes import make_install

TAKE = Decimal("0.40")  # sora-2, 1280x720, 4 s at $0.10 a second


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


def test_a_hold_past_the_workspace_cap_is_refused_and_stores_nothing(workspace, personas, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("1.00"))
    queue(workspace, personas["editor"])
    queue(workspace, personas["editor"])
    with pytest.raises(budgets.OverBudget) as refused:
        queue(workspace, personas["editor"])
    message = str(refused.value)
    assert "would cost $0.40" in message
    assert "monthly cap of $1.00 has $0.20 left" in message
    assert "An owner of the workspace (owner) can raise it" in message
    assert Take.objects.count() == 2
    assert LedgerEntry.objects.count() == 2


def test_failed_and_cancelled_takes_give_their_hold_back_to_the_month(workspace, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("0.80"))
    first, second = queue(workspace), queue(workspace)
    with pytest.raises(budgets.OverBudget):
        queue(workspace)
    takes.end(first.pk, Status.FAILED, "boom", "provider_error")
    takes.cancel(second.pk)
    queue(workspace)
    queue(workspace)
    assert budgets.spent(workspace.pk, budgets.month_of(None)) == Decimal("0.80")


def test_a_members_own_cap_holds_even_with_room_in_the_workspace(workspace, personas, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("100"))
    budgets.set_member_cap(workspace, personas["editor"], Decimal("0.50"))
    queue(workspace, personas["editor"])
    with pytest.raises(budgets.OverBudget, match="your own monthly cap .* of \\$0.50 has \\$0.10"):
        queue(workspace, personas["editor"])
    queue(workspace, personas["owner"])  # the owner has no cap of their own


def test_no_budget_means_no_cap(workspace, priced):
    for _ in range(3):
        queue(workspace)
    assert not Budget.objects.exists()


def test_alerts_fire_once_per_threshold_per_month(workspace, personas, priced, settings):
    personas["owner"].email = "owner@example.com"
    personas["owner"].save()
    budgets.set_budget(workspace, monthly_cap=Decimal("2.00"))
    fired = []
    for _ in range(5):  # 20 %, 40 %, 60 %, 80 %, 100 %
        queue(workspace)
        fired.append(sorted(BudgetAlert.objects.values_list("threshold", flat=True)))
    assert fired == [[], [], [50], [50, 80], [50, 80, 100]]
    # A refused hold fires nothing again.
    with pytest.raises(budgets.OverBudget):
        queue(workspace)
    assert BudgetAlert.objects.count() == 3


def test_alerts_mail_the_owners_after_commit(
    workspace, personas, priced, settings, django_capture_on_commit_callbacks
):
    personas["owner"].email = "owner@example.com"
    personas["owner"].save()
    budgets.set_budget(workspace, monthly_cap=Decimal("0.40"))
    with django_capture_on_commit_callbacks(execute=True):
        queue(workspace)
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert "100%" in mail.outbox[0].subject


def test_member_alerts_fire_once_per_threshold_per_month_for_each_member(
    workspace, personas, priced, django_capture_on_commit_callbacks
):
    editor, owner = personas["editor"], personas["owner"]
    for user in (editor, owner):
        user.email = f"{user.username}@example.com"
        user.save()
    budgets.set_member_cap(workspace, editor, Decimal("1.60"))
    budgets.set_member_cap(workspace, personas["viewer"], Decimal("0.80"))
    fired = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):  # 25 %, 50 %, 75 %, 100 % of the editor's own cap
            queue(workspace, editor)
            fired.append(sorted(BudgetAlert.objects.values_list("threshold", flat=True)))
        queue(workspace, owner)  # the owner has no cap of their own: no alert for them
    assert fired == [[], [50], [50], [50, 80, 100]]
    assert set(BudgetAlert.objects.values_list("member", flat=True)) == {editor.pk}
    with pytest.raises(budgets.OverBudget):
        queue(workspace, editor)
    assert BudgetAlert.objects.count() == 3  # refused: nothing fires again
    assert [m.to for m in mail.outbox] == [["editor@example.com", "owner@example.com"]] * 2
    assert (
        mail.outbox[-1].subject == "[Slate] editor has used 100% of their budget in Harbour Films"
    )
    # The workspace's own alerts are counted apart from a member's.
    budgets.set_budget(workspace, monthly_cap=Decimal("4.00"))
    queue(workspace, owner)
    assert list(BudgetAlert.objects.filter(member=None).values_list("threshold", flat=True)) == [50]


def test_months_roll_over_in_the_budgets_time_zone():
    budget = Budget(time_zone="Pacific/Auckland")
    # 20:00 UTC on 30 November is already 1 December in Auckland.
    month = budgets.month_of(budget, datetime(2026, 11, 30, 20, tzinfo=ZoneInfo("UTC")))
    assert month.key == "2026-12"
    assert month.start == datetime(2026, 12, 1, tzinfo=ZoneInfo("Pacific/Auckland"))
    assert budgets.month_of(None, key="2026-12").end == datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))


def test_a_take_counts_in_the_month_it_was_made(workspace, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("0.40"))
    old = queue(workspace)
    Take.objects.filter(pk=old.pk).update(created_at=datetime(2020, 1, 5, tzinfo=ZoneInfo("UTC")))
    queue(workspace)  # last month's take no longer counts


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("-5", "can't be negative"),
        ("5000000", "surely a typo"),
        ("12.345", "fractions of a cent"),
        ("lots", "is not an amount"),
        ("NaN", "is not an amount"),
        ("1e3", "is not an amount"),  # Decimal would read $1,000
        ("1_000", "is not an amount"),
        ("Infinity", "is not an amount"),
    ],
)
def test_negative_or_absurd_amounts_are_refused(typed, problem):
    with pytest.raises(budgets.BudgetInvalid, match=problem):
        budgets.amount(typed)


def test_amounts_read_as_dollars_and_cents():
    assert budgets.amount("$1,250.5") == Decimal("1250.50")
    assert budgets.thresholds("50, 80,100%") == [50, 80, 100]
    with pytest.raises(budgets.BudgetInvalid):
        budgets.thresholds("0 150")


def test_the_composer_shows_a_refusal_and_queues_nothing(client_for, personas, workspace, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("0.20"))
    client = client_for(personas["editor"])
    data = {
        "subject": "a lighthouse",
        "provider": "openai",
        "model": "sora-2",
        "size": "1280x720",
        "seconds": "4",
    }
    url = reverse("generate", args=["harbour"])
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="error-form"' in text
    assert "monthly cap of $0.20 has $0.20 left" in text
    assert not Take.objects.exists()
    assert client.post(url, data).status_code == 400  # without htmx: the page, with the message


def test_holds_through_the_ledger_are_checked_too(workspace, priced):
    """Whatever makes a take, its hold goes through the cap (ledger.hold)."""
    budgets.set_budget(workspace, monthly_cap=Decimal("0"))
    take = Take.objects.create(workspace=workspace, composed_prompt="x", size="1280x720",
                               seconds=4, seed=1, estimate=TAKE)  # fmt: skip
    with pytest.raises(budgets.OverBudget):
        ledger.hold(take, take.estimate)


RACE = """
import json, threading, time
from decimal import Decimal
from django.db import connection
from studio import budgets, takes, usage
from studio.models import LedgerEntry, Take, Workspace
from studio.prompts import Shot
from studio.providers import endpoints

workspace = Workspace.objects.create(name="Race", slug="race")
endpoints.add_endpoint(workspace, name="openai", kind="openai",
    base_url="http://127.0.0.1:9/v1", api_key="sk-test-key", models=["sora-2"])
budgets.set_budget(workspace, monthly_cap=Decimal("1.20"))
# Widen the window between adding up the month and writing the hold, so that without the
# lock every thread would read the same total (the test fails then: checked by hand).
counted = budgets.spent
def slow_spent(*args, **kwargs):
    total = counted(*args, **kwargs)
    time.sleep(0.02)
    return total
budgets.spent = slow_spent
start = threading.Barrier(20)
accepted, refused, other = [], [], []

def race():
    try:
        start.wait()
        takes.queue_take(workspace, Shot(subject="race"), provider="openai", model="sora-2",
                         size="1280x720", seconds=4)
        accepted.append(1)
    except budgets.OverBudget as error:
        refused.append(str(error))
    except Exception as error:
        other.append(repr(error))
    finally:
        connection.close()

began = time.monotonic()
threads = [threading.Thread(target=race) for _ in range(20)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({
    "accepted": len(accepted), "refused": len(refused), "other": other,
    "takes": Take.objects.filter(workspace=workspace).count(),
    "holds": LedgerEntry.objects.filter(workspace=workspace).count(),
    "spent": str(budgets.spent(workspace.pk, budgets.month_of(None))),
    "seconds": round(time.monotonic() - began, 2),
    "usage": usage.as_json(usage.report(workspace)),  # the day in SQL, on either database
}))
"""


NO_DNS = {"SLATE_ALLOW_PRIVATE_PROVIDERS": "true"}  # the endpoint is on loopback, never called


def race(install) -> dict:
    done = install.manage("shell", "-v0", "-c", RACE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(result: dict) -> None:
    assert result["other"] == [], result
    assert (result["accepted"], result["refused"]) == (3, 17), result
    assert result["takes"] == result["holds"] == 3
    assert Decimal(result["spent"]) == Decimal("1.20")
    assert Decimal(result["usage"]["total"]) == Decimal("1.20")
    assert len(result["usage"]["days"]) == 1


@pytest.mark.slow
def test_twenty_concurrent_takes_against_a_cap_for_three_accept_three_on_sqlite(tmp_path):
    check(race(make_install(tmp_path / "var", **NO_DNS)))


@pytest.mark.slow
def test_twenty_concurrent_takes_against_a_cap_for_three_accept_three_on_postgresql(
    tmp_path,
    database_url,  # noqa: F811
):
    check(race(make_install(tmp_path / "var", DATABASE_URL=database_url, **NO_DNS)))


def test_usage_days_follow_the_budgets_time_zone_across_a_clock_change(workspace, priced):
    budgets.set_budget(workspace, time_zone="Europe/Paris")  # summer time from 29 March 2026
    utc = ZoneInfo("UTC")
    for moment in (
        datetime(2026, 3, 28, 22, 30, tzinfo=utc),  # 23:30 on the 28th in Paris (UTC+1)
        datetime(2026, 3, 29, 22, 30, tzinfo=utc),  # 00:30 on the 30th in Paris (UTC+2)
        datetime(2026, 3, 31, 22, 30, tzinfo=utc),  # 00:30 on 1 April: the next month
    ):
        take = queue(workspace)
        Take.objects.filter(pk=take.pk).update(created_at=moment)
    found = usage.report(workspace, budgets.month_of(Budget.objects.get(), key="2026-03"))
    assert [row["day"].isoformat() for row in found["rows"]] == ["2026-03-28", "2026-03-30"]
    assert found["total"] == Decimal("0.80")


def test_the_composer_refuses_before_any_work_is_done(
    client_for, personas, workspace, priced, monkeypatch
):
    """No first frame is written, no take made: the check runs before queueing, and the
    locked check in the hold stays the one that counts."""
    budgets.set_budget(workspace, monthly_cap=Decimal("0.20"))
    monkeypatch.setattr(takes, "queue_take", lambda *a, **k: pytest.fail("queued"))
    data = {"subject": "a gull", "provider": "openai", "model": "sora-2", "size": "1280x720",
            "seconds": "4"}  # fmt: skip
    response = client_for(personas["editor"]).post(
        reverse("generate", args=["harbour"]), data, headers={"HX-Request": "true"}
    )
    assert "has $0.20 left" in response.content.decode()


def test_the_cli_refuses_in_one_line_with_exit_2(capsys, workspace, priced):
    budgets.set_budget(workspace, monthly_cap=Decimal("0.20"))
    args = ["--workspace", "harbour", "--provider", "openai", "--model", "sora-2",
            "--size", "1280x720", "--seconds", "4", "--subject", "a gull", "--json"]  # fmt: skip
    with pytest.raises(SystemExit) as exit:
        call_command("generate", *args)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.count("\n") == 1
    assert "monthly cap of $0.20 has $0.20 left" in err and not Take.objects.exists()
