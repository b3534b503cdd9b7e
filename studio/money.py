"""Money in a workspace's currency: the one home that converts and formats it.

The ledger keeps the catalogue's currency (US dollars) as its one accounting unit; a workspace
shows and caps in its own currency (``Workspace.currency``, ISO 4217) at the rate its owners
set (``Workspace.rate``: units of that currency per US dollar). Nothing here reads the
database: a workspace is anything with ``currency`` and ``rate`` (None is US dollars).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

USD = "USD"
ONE = Decimal("1")
MAX_RATE = Decimal("1000000")  # the weakest currencies trade near 10^5 per dollar
RATE_PLACES = Decimal("0.000001")
PLACES = Decimal("0.0001")  # the ledger's

# Active ISO 4217 codes; a code outside it is a typo (Babel, which knows them all, isn't here).
_ISO_4217 = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
ZWL
"""
CODES = frozenset(_ISO_4217.split())
# Symbols written before the amount without a space; any other code is written as "CHF 0.37".
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "KRW": "₩",
    "ILS": "₪",
    "NGN": "₦",
    "PHP": "₱",
    "VND": "₫",
    "UAH": "₴",
    "TRY": "₺",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "MXN": "MX$",
    "BRL": "R$",
}
# Currencies without minor units in everyday prices (ISO 4217 exponent 0).
_NO_CENTS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
WHOLE = frozenset(_NO_CENTS.split())


class CurrencyInvalid(ValueError):
    """A currency or rate that can't be saved; the message says why, ``field`` which."""

    def __init__(self, message: str, field: str = "rate"):
        super().__init__(message)
        self.field = field


def code_of(workspace) -> str:
    return getattr(workspace, "currency", None) or USD


def rate_of(workspace) -> Decimal:
    rate = getattr(workspace, "rate", None)
    return Decimal(rate) if rate else ONE


def to_workspace(amount_usd, workspace) -> Decimal | None:
    """A ledger amount (US dollars) in the workspace's currency, to the ledger's four
    decimals (rounding there moves a cap check by at most a hundredth of a cent)."""
    if amount_usd is None:
        return None
    rate = rate_of(workspace)
    if rate == ONE:
        return Decimal(amount_usd)
    return (Decimal(amount_usd) * rate).quantize(PLACES, rounding=ROUND_HALF_UP)


def format(amount, workspace, *, fine: bool = False) -> str:  # noqa: A001 — read money.format
    """An amount already in the workspace's currency as people read it: "€0.37", "¥55",
    "CHF 0.37"; cents, or whole units for currencies without them. ``fine`` keeps up to
    the ledger's four decimals when a price has them ("$0.1345" a second)."""
    if amount is None:
        return ""
    code = code_of(workspace)
    step = ONE if code in WHOLE else Decimal("0.01")
    value = Decimal(amount).quantize(step, rounding=ROUND_HALF_UP)
    if fine and value != amount:
        value = Decimal(amount).quantize(PLACES, rounding=ROUND_HALF_UP).normalize()
        value = value.quantize(Decimal("0.01")) if value.as_tuple().exponent > -2 else value
    digits = f"{abs(value):,}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{code} {digits}"


def show(amount_usd, workspace, *, fine: bool = False) -> str:
    """A ledger amount (US dollars) as the workspace reads it: converted, then formatted."""
    return format(to_workspace(amount_usd, workspace), workspace, fine=fine)


def to_usd(amount, workspace) -> Decimal | None:
    """An amount in the workspace's currency in the ledger's US dollars (a bound to compare
    ledger amounts with), unrounded."""
    if amount is None:
        return None
    rate = rate_of(workspace)
    return Decimal(amount) if rate == ONE else Decimal(amount) / rate


def unmarked(text, workspace) -> str:
    """An amount as typed without the workspace's symbol or code ("€250", "CHF 250"); another
    currency's stays, so it is no amount."""
    text = str(text).strip()
    code = code_of(workspace)
    for lead in (code, SYMBOLS.get(code, code)):
        if text.upper().startswith(lead.upper()):
            return text[len(lead) :].strip()
    return text


def name(workspace) -> str:
    """How a form label names the currency: "€, EUR" or "CHF"."""
    code = code_of(workspace)
    symbol = SYMBOLS.get(code)
    return f"{symbol}, {code}" if symbol else code


# Settings, as owners type them.


def currency(text) -> str:
    code = str(text).strip().upper()
    if code not in CODES:
        raise CurrencyInvalid(
            f"“{text}” is not a currency: write its three-letter ISO 4217 code, e.g. EUR or CHF.",
            field="currency",
        )
    return code


def rate(text, code: str) -> Decimal:
    """Units of ``code`` per US dollar as typed: positive, at most six decimals; 1 for USD."""
    cleaned = str(text).strip().replace(",", "")
    if not re.fullmatch(r"(?:\d+(?:\.\d*)?|\.\d+)", cleaned):
        raise CurrencyInvalid(
            f"“{text}” is not a rate: write how many {code} one US dollar buys, e.g. 0.92."
        )
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover — the pattern above admits only decimals
        raise CurrencyInvalid(f"“{text}” is not a rate.") from None
    if value <= 0:
        raise CurrencyInvalid("A rate must be above 0: it is what one US dollar buys.")
    if value > MAX_RATE:
        raise CurrencyInvalid(f"A rate above {MAX_RATE:,} {code} per US dollar is surely a typo.")
    if value != value.quantize(RATE_PLACES):
        raise CurrencyInvalid("A rate has at most six decimals.")
    if code == USD and value != ONE:
        raise CurrencyInvalid("The US dollar's rate is 1: the price list is in US dollars.")
    return value.quantize(RATE_PLACES)
