"""Money on pages, converted and formatted by studio/money.py only, so no page writes a
currency by hand; loaded with ``{% load money %}``:

- ``{{ take.estimate|money:workspace }}`` — a ledger amount (US dollars, the price list's
  currency) shown in the workspace's currency at its rate;
- ``{{ cap|in_currency:workspace }}`` — an amount already in the workspace's currency (caps,
  budget overviews, alerts).

Without a workspace (None), amounts are US dollars."""

from django import template

from studio import money as currency

register = template.Library()


@register.filter
def money(amount_usd, workspace=None) -> str:
    return currency.show(amount_usd, workspace)


@register.filter
def price(amount_usd, workspace=None) -> str:
    """``money`` for a price per unit: sub-cent digits kept ("$0.1345")."""
    return currency.show(amount_usd, workspace, fine=True)


@register.filter
def in_currency(amount, workspace=None) -> str:
    return currency.format(amount, workspace)


@register.filter
def currency_name(workspace) -> str:
    """ "€, EUR" for a form's label."""
    return currency.name(workspace)
