"""The owner's words: what a page says where the API names its fields and its JSON.

The API's messages are written for a programmer ("send sell as null", "universeId",
"buy_date"); a page shows the same refusal in the owner's words. :func:`plain` rewrites
the known sentences of :mod:`rms.domain.rules` and :mod:`rms.repo.crud`, then any field
name left, so no API word reaches a page (the page tests look for them).
"""

from __future__ import annotations

import re

from rms.http.values import DAY_FORMAT, INSTANT_FORMAT

__all__ = ["API_WORDS", "plain"]

#: Words of the API that a page never shows.
API_WORDS = (
    "null",
    "universeId",
    "accountId",
    "divDepositTypeId",
    "buy_date",
    "sell_date",
    "risk_group_id",
    "distributions_per_year",
    "last_price",
    "ex_date",
    "is_closed_end_fund",
)

_SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (
            r"a trade with a sell price needs its sell_date \(.*\)",
            "is needed with a sell price (leave both sell fields empty while the lot is open)",
        ),
        (
            r"a trade with a sell_date needs its sell price \(.*\)",
            "is needed with a sell date (empty both sell fields to reopen the lot)",
        ),
        (
            r"a dividend \(a deposit with a universeId\) must be more than 0, got .*",
            "must be more than 0 for a dividend (money taken out is a withdrawal: a deposit "
            "with a negative amount)",
        ),
        (r"no accounts row with id .*", "names an account that was deleted"),
        (r"no universe row with id .*", "names a symbol that was deleted from the universe"),
        (r"no divDepositType row with id .*", "names a type that was deleted"),
        (r"no risk_group row with id .*", "names a risk group that was deleted"),
        (r"a trade is sold on or after", "a lot is sold on or after"),
        (r"must be a date or date-time written", "must be a date written"),
        (r"name the symbol, by its universe id .*", "name the symbol"),
    )
)
_NAMES = {
    "universeId": "symbol",
    "accountId": "account",
    "divDepositTypeId": "type",
    "buy_date": "buy date",
    "sell_date": "sell date",
    "risk_group_id": "risk group",
    "distributions_per_year": "distributions a year",
    "last_price": "last price",
    "ex_date": "ex-date",
    "is_closed_end_fund": "closed-end fund",
    "null": "empty",
}


def plain(message: str) -> str:
    """``message`` in the owner's words."""
    text = message.replace(INSTANT_FORMAT, DAY_FORMAT)
    for pattern, replacement in _SENTENCES:
        text = pattern.sub(replacement, text)
    for name, word in _NAMES.items():
        text = re.sub(rf"\b{name}\b", word, text)
    return text
