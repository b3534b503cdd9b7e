"""`manage.py budget set|show` and `manage.py usage`: one JSON object, or one line and exit 2."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from studio import budgets, takes
from studio.models import Budget, MemberCap
from studio.prompts import Shot
from studio.providers import endpoints
from teams.models import AuditEntry


def run(capsys, command, *args):
    try:
        call_command(command, *args)
        code = 0
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_budget_set_the_workspace_and_a_members_cap(capsys, personas):
    code, out, err = run(
        capsys, "budget", "set", "harbour", "--monthly", "500",
        "--member", "editor", "--monthly", "50", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["cap"] == "500.00" and result["members"]["editor"]["cap"] == "50.00"
    assert result["left"] == "500.00" and result["thresholds"] == [50, 80, 100]
    assert AuditEntry.objects.count() == 2  # by the shell: no actor
    assert not AuditEntry.objects.exclude(actor=None).exists()


def test_budget_set_a_members_cap_only_keeps_the_workspaces(capsys, personas):
    run(capsys, "budget", "set", "harbour", "--monthly", "100")
    code, out, err = run(
        capsys, "budget", "set", "harbour", "--member", "viewer", "--monthly", "5", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["cap"] == "100.00"
    assert MemberCap.objects.get().monthly_cap == Decimal("5.00")
    run(capsys, "budget", "set", "harbour", "--monthly", "none")
    assert Budget.objects.get().monthly_cap is None


@pytest.mark.parametrize(
    "args, says",
    [
        (["set", "nope", "--monthly", "5"], "no workspace"),
        (["set", "harbour", "--monthly", "-5"], "can't be negative"),
        (["set", "harbour", "--monthly", "1000000000000"], "surely a typo"),
        (["set", "harbour", "--monthly", "1e3"], "is not an amount"),
        (["set", "harbour", "--monthly", "5", "--member", "outsider", "--monthly", "1"],
         "not a member"),
        (["set", "harbour", "--member", "editor", "--monthly", "5", "--monthly", "x"],
         "not an amount"),
        (["set", "harbour", "--monthly", "5", "--monthly", "6"], "once for the workspace"),
        (["set", "harbour"], "needs --monthly"),
        (["set", "harbour", "--time-zone", "Nowhere/Land"], "not a time zone"),
    ],
)  # fmt: skip
def test_budget_bad_input_is_one_line_exit_2_and_stores_nothing(capsys, personas, args, says):
    code, out, err = run(capsys, "budget", *args, "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err
    assert not Budget.objects.exists() and not AuditEntry.objects.exists()


def test_usage_totals_by_day_member_and_model(capsys, personas, workspace):
    endpoints.add_endpoint(
        workspace,
        name="openai",
        kind="openai",
        base_url="https://api.example.com/v1",
        api_key="sk-test-key",
        models=["sora-2"],
    )
    for user in (personas["editor"], personas["editor"], None):
        takes.queue_take(
            workspace, Shot(subject="a gull"), provider="openai", model="sora-2",
            size="1280x720", seconds=4, created_by=user,
        )  # fmt: skip
    month = budgets.month_of(None).key
    code, out, err = run(capsys, "usage", "harbour", "--month", month, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["month"] == month and result["takes"] == 3
    assert Decimal(result["total"]) == Decimal("1.20")
    assert {k: Decimal(v) for k, v in result["members"].items()} == {
        "editor": Decimal("0.80"),
        "shell": Decimal("0.40"),
    }
    assert list(result["models"]) == ["sora-2"] and len(result["days"]) == 1
    assert result["statuses"] == {"queued": 3}


@pytest.mark.parametrize(
    "args, says",
    [(["nope"], "no workspace"), (["harbour", "--month", "2026-13"], "not a month"),
     (["harbour", "--month", "Nov"], "not a month")],
)  # fmt: skip
def test_usage_bad_input_is_one_line_exit_2(capsys, personas, args, says):
    code, out, err = run(capsys, "usage", *args, "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and says in err
