"""The request and response models of each resource, shared by the API and the pages.

Each resource declares its fields once (``XFields``); :class:`ResourceModels` derives the
create body (optional client id), the update body (every field optional, with the same
bounds, ``version`` required) and the response model from it (:data:`MODELS`). The JSON API
validates its bodies with them (:mod:`rms.api.routes.resources`); the pages' forms validate
with the same models (:func:`rms.web.forms.validate`), so both refuse the same values in the
same words. The value types are :mod:`rms.http.values`.

The portfolio rules that involve several fields (a trade's sell date against its buy date)
are :mod:`rms.domain.rules`, checked by the repository on the row as stored; the models
state them in their descriptions, so the OpenAPI document shows them.

Responses are not held to the input bounds: a row written before today's rules, or by the
application, is shown as it is, with text made sendable (:func:`rms.http.values.displayable`).
"""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator
from pydantic.fields import FieldInfo

from rms.domain.rules import trade_sell_price
from rms.http.values import (
    ID_PATTERN,
    Amount,
    Cusip,
    CusipSource,
    Id,
    Instant,
    JsonValue,
    Name,
    Note,
    PerYear,
    PositiveCount,
    PositivePrice,
    Price,
    ShownJson,
    Symbol,
    Text,
    Version,
)
from rms.schema.types import utcnow

__all__ = ["MODELS", "ReadOnlyModels", "ResourceModels", "StrictBody"]


class StrictBody(BaseModel):
    """A JSON body: no unknown fields, and no coercion between JSON types.

    A JSON number is a number and a boolean a boolean: ``{"quantity": true}`` or
    ``{"expired": 1}`` or ``{"quantity": "5"}`` is refused, naming the field, instead of
    becoming one share, ``true`` or 5. (Text fields still read their own formats: dates are
    text.) The web pages' forms post text, so :func:`rms.web.forms.validate` validates with
    ``strict=False``; query parameters are text too, so the filters stay lax.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class AccountFields(BaseModel):
    name: Name


class RiskGroupFields(BaseModel):
    name: Name


class UniverseFields(BaseModel):
    symbol: Symbol
    distribution: Price
    distributions_per_year: PerYear
    last_price: Price
    risk_group_id: Id
    most_recent_sell_date: Instant | None = None
    most_recent_sell_price: Price | None = None
    ex_date: Instant | None = None
    expired: bool = False
    is_closed_end_fund: bool = True
    volatility_long: Note | None = None
    volatility_short: Note | None = None
    volatility_calculated_at: Instant | None = None


class TradeFields(BaseModel):
    """A lot bought (and, once sold, sold) in one account.

    Rules, checked for every create and every update (on the stored trade with the changes
    applied): `buy` > 0 and `quantity` > 0; `sell` and `sell_date` are set together or not
    at all (an open trade has neither: `sell` is null while the trade is open); `sell_date`
    is not before `buy_date`. A trade is created or reopened only on a live account and
    symbol.
    """

    universeId: Id = Field(
        description="the symbol's universe row (a create may name `symbol` instead)"
    )
    accountId: Id
    buy: PositivePrice = Field(description="price paid per share; more than 0")
    sell: Price | None = Field(
        default=None,
        description="price received per share, 0 or more; set together with `sell_date`; "
        "null while the trade is open",
    )
    buy_date: Instant
    quantity: PositiveCount = Field(description="shares bought; more than 0")
    sell_date: Instant | None = Field(
        default=None,
        description="when the lot was sold: not before `buy_date`; set together with `sell`",
    )


class TradeBySymbol(BaseModel):
    symbol: Symbol | None = Field(
        default=None,
        description="the symbol, instead of `universeId` (409 if the universe has no such "
        "live symbol; 422 if it is not the row `universeId` names)",
    )


class HolidayFields(BaseModel):
    date: Instant
    name: Name


class DivDepositTypeFields(BaseModel):
    name: Name


class DivDepositFields(BaseModel):
    """Money into (or out of) an account.

    A row with a `universeId` is a dividend of that symbol and is more than 0; a row without
    one is a deposit, which is not 0: a negative deposit is a withdrawal. Checked for every
    create and every update (on the stored row with the changes applied).
    """

    date: Instant
    amount: Amount = Field(
        description="not 0; more than 0 for a dividend (with `universeId`); a negative "
        "deposit (no `universeId`) is a withdrawal"
    )
    accountId: Id
    divDepositTypeId: Id
    universeId: Id | None = Field(default=None, description="the symbol of a dividend")


class ScreenerFields(BaseModel):
    symbol: Symbol
    distribution: Price
    distributions_per_year: PerYear
    last_price: Price
    risk_group_id: Id
    ex_date: Instant | None = None


class SettingFields(BaseModel):
    value: JsonValue


class CusipCacheFields(BaseModel):
    cusip: Cusip
    symbol: Symbol
    source: CusipSource
    resolvedAt: Instant = Field(default_factory=utcnow)
    # One "now" for both: two calls of utcnow can fall in different milliseconds.
    lastUsedAt: Instant = Field(default_factory=lambda data: data["resolvedAt"])


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _TradeRead(_Read):
    @model_validator(mode="after")
    def _open_has_no_sell(self) -> _TradeRead:
        # The column holds 0 (or whatever an older writer left) while the trade is open.
        values = self.__dict__
        values["sell"] = trade_sell_price(values["sell"], values["sell_date"])
        return self


# Responses of the CUSIP tables, as the application writes them: plain text, not held to
# the input rules above (the archive and the audit are written by the application only).
class CusipCacheOut(_Read):
    id: Text
    cusip: Text
    symbol: Text
    source: Text
    resolvedAt: datetime
    lastUsedAt: datetime
    createdAt: datetime
    updatedAt: datetime


class CusipCacheArchiveOut(_Read):
    id: Text
    cusip: Text
    symbol: Text
    source: Text
    resolvedAt: datetime
    archivedAt: datetime
    reason: Text | None = None


class CusipCacheAuditOut(_Read):
    id: Text
    cusip: Text
    symbol: Text
    action: Text
    source: Text
    userId: Text | None = None
    reason: Text | None = None
    createdAt: datetime


SettingKey = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ID_PATTERN)]


def _loose(annotation: Any) -> Any:
    """The response type of an input type: no bounds, any text made sendable.

    A response shows what a row holds, including rows written before today's rules or by
    the application (a zero price, a lower-case symbol, an old enum value): applying the
    input bounds there would turn reading such a row into a 500.
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        return _loose(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return Union[tuple(_loose(arg) for arg in get_args(annotation))]  # noqa: UP007
    if annotation is str or origin is Literal:
        return Text
    if annotation is Any:
        return ShownJson
    return annotation


def _declared(info: FieldInfo) -> Any:
    """A field's type with its constraints (pydantic keeps those apart, in ``metadata``)."""
    if not info.metadata:
        return info.annotation
    return Annotated[(info.annotation, *info.metadata)]


def _read_fields(fields: type[BaseModel]) -> dict[str, Any]:
    return {
        name: (
            _loose(info.annotation),
            Field(
                default=... if info.is_required() else None,
                description=info.description,
            ),
        )
        for name, info in fields.model_fields.items()
    }


class ResourceModels:
    """The create, update and response models derived from one resource's fields.

    ``versioned`` resources (soft delete, optimistic version) add ``deletedAt`` and
    ``version`` to responses and require ``version`` in updates; others (the CUSIP cache)
    have timestamps only. ``read`` replaces the derived response model when given.
    ``inputs`` are fields a write may carry that are not columns (a trade's ``symbol``);
    ``optional_on_create`` are fields a create may leave out because an input stands in
    for them (``universeId``, when ``symbol`` names it).
    """

    def __init__(
        self,
        prefix: str,
        fields: type[BaseModel],
        key: str = "id",
        *,
        versioned: bool = True,
        read: type[BaseModel] | None = None,
        read_base: type[BaseModel] = _Read,
        inputs: type[BaseModel] | None = None,
        optional_on_create: tuple[str, ...] = (),
    ) -> None:
        self.fields = fields
        self.key = key
        doc = fields.__doc__ if fields.__doc__ != BaseModel.__doc__ else None
        key_field: Any = (SettingKey, ...) if key != "id" else (Id | None, None)
        relaxed: dict[str, Any] = {
            name: (
                _declared(fields.model_fields[name]) | None,
                Field(default=None, description=fields.model_fields[name].description),
            )
            for name in optional_on_create
        }
        bases = (fields, inputs, StrictBody) if inputs is not None else (fields, StrictBody)
        self.create: type[BaseModel] = create_model(
            f"{prefix}Create", __base__=bases, __doc__=doc, **{key: key_field}, **relaxed
        )
        optional: dict[str, Any] = {
            name: (_declared(info), Field(default=None, description=info.description))
            for source in (fields, inputs)
            if source is not None
            for name, info in source.model_fields.items()
        }
        if versioned:
            optional["version"] = (
                Version,
                Field(description="the version this change was made against"),
            )
        self.update: type[BaseModel] = create_model(
            f"{prefix}Update", __base__=StrictBody, __doc__=doc, **optional
        )
        managed: dict[str, Any] = {
            key: (Text, ...),
            "createdAt": (datetime, ...),
            "updatedAt": (datetime, ...),
        }
        if versioned:
            managed |= {"deletedAt": (datetime | None, None), "version": (int, ...)}
        self.read: type[BaseModel] = read or create_model(
            prefix, __base__=read_base, __doc__=doc, **_read_fields(fields), **managed
        )


class ReadOnlyModels:
    """A resource served read-only: its response model only."""

    def __init__(self, read: type[BaseModel]) -> None:
        self.read = read


MODELS: dict[str, ResourceModels | ReadOnlyModels] = {
    "accounts": ResourceModels("Account", AccountFields),
    "risk-groups": ResourceModels("RiskGroup", RiskGroupFields),
    "universe": ResourceModels("Universe", UniverseFields),
    "trades": ResourceModels(
        "Trade",
        TradeFields,
        read_base=_TradeRead,
        inputs=TradeBySymbol,
        optional_on_create=("universeId",),
    ),
    "div-deposit-types": ResourceModels("DivDepositType", DivDepositTypeFields),
    "div-deposits": ResourceModels("DivDeposit", DivDepositFields),
    "holidays": ResourceModels("Holiday", HolidayFields),
    "screener": ResourceModels("ScreenerEntry", ScreenerFields),
    "cusip-cache": ResourceModels(
        "CusipCacheEntry", CusipCacheFields, versioned=False, read=CusipCacheOut
    ),
    "cusip-cache-archive": ReadOnlyModels(CusipCacheArchiveOut),
    "cusip-cache-audit": ReadOnlyModels(CusipCacheAuditOut),
    "settings": ResourceModels("Setting", SettingFields, key="key"),
}
