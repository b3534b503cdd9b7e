"""``{{ amount|money }}``: an amount as Slate writes money everywhere (budgets.money), so a
page never formats it by hand; loaded with ``{% load money %}``."""

from django import template

from studio import budgets

register = template.Library()


@register.filter
def money(amount) -> str:
    return "" if amount is None else budgets.money(amount)
