"""HTML forms through the API's own models: the same rules, the same words.

A form posts text; :func:`validate` drops empty fields (an empty input means "not given",
as a JSON body would leave the key out) and validates the rest with the API's create or
update model of the resource, so a page refuses exactly what ``POST /api/...`` refuses.
Pydantic's errors become the API's reasons (:func:`rms.http.problems.field_problems`);
an :class:`~rms.errors.RmsError` raised by the repository (a rule that spans fields, an
unknown symbol, a stale version) becomes the message of the field it names. The template
shows each message next to its field (``aria-describedby``) and a summary at the top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from rms.errors import RmsError
from rms.http.problems import field_problems
from rms.web.words import plain

__all__ = [
    "Conflict",
    "FormError",
    "conflict_of",
    "form_values",
    "form_version",
    "small_number",
    "validate",
]


@dataclass(frozen=True)
class Conflict:
    """The row changed since the form was loaded: what it holds now, beside the owner's.

    ``rows`` are (label, the owner's value, the saved value, whether they differ);
    ``version`` is the saved row's version, carried by the "Save mine over theirs" button
    only: the form's own ``version`` stays the one it was loaded with, so a plain Save
    meets the same conflict again instead of overwriting.
    """

    rows: list[tuple[str, str, str, bool]]
    version: int


def conflict_of(
    labels: Mapping[str, str], mine: Mapping[str, str], saved: Mapping[str, str], version: int
) -> Conflict:
    """The "Yours / Saved now" table of the fields in ``labels`` the form sent."""
    rows = [
        (label, mine.get(name, ""), saved.get(name, ""), mine.get(name, "") != saved.get(name, ""))
        for name, label in labels.items()
        if name in mine
    ]
    return Conflict(rows, version)


def small_number(text: str, digits: int) -> int | None:
    """``text`` as a whole number of at most ``digits`` ASCII digits, else None.

    ``str.isdigit`` alone is not enough: it accepts digits ``int`` refuses ("²"), and any
    length (a 23-digit version overflowed the database's integer).
    """
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None


def form_version(text: str) -> int:
    """The ``version`` (or ``overwrite``) a form posted; 0 when it is not a version."""
    return small_number(text, 9) or 0


@dataclass
class FormError(Exception):
    """Messages per field (``_form`` for what belongs to no field) and the values sent."""

    messages: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    #: Set when the row changed under the form (see :class:`Conflict`).
    conflict: Conflict | None = None
    #: A warning the owner may overrule ("a Saturday"): the form offers to save anyway.
    confirm: str = ""

    @classmethod
    def of(cls, exc: RmsError, values: Mapping[str, str], fields: Iterable[str]) -> FormError:
        name = exc.field if exc.field in set(fields) else "_form"
        text = exc.message
        if exc.field and text.startswith(f"{exc.field}: "):
            text = text.removeprefix(f"{exc.field}: ")
        return cls({name: plain(text)}, dict(values))


def form_values(form: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The named fields of a posted form, as stripped text ('' when absent)."""
    return {name: str(form.get(name, "")).strip() for name in names}


def validate(
    model: type[BaseModel], values: Mapping[str, str], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The model's dump of the non-empty ``values`` (plus ``extra``), or :class:`FormError`."""
    data: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    data.update(extra or {})
    try:
        # Forms post text: read "5" as 5 here (JSON bodies are strict, rms.http.models).
        body = model.model_validate(data, strict=False)
    except ValidationError as exc:
        messages: dict[str, str] = {}
        for problem in field_problems(exc.errors()):
            if problem["field"] in values:
                messages.setdefault(problem["field"], plain(problem["reason"]))
            else:
                messages.setdefault("_form", plain(f"{problem['field']} {problem['reason']}"))
        raise FormError(messages, dict(values)) from None
    return body.model_dump(exclude_unset=True)
