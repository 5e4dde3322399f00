"""HTML forms through the API's own models: the same rules, the same words.

A form posts text; :func:`validate` drops empty fields (an empty input means "not given",
as a JSON body would leave the key out) and validates the rest with the API's create or
update model of the resource, so a page refuses exactly what ``POST /api/...`` refuses.
Pydantic's errors become the API's reasons (:func:`rms.api.problems.field_problems`);
an :class:`~rms.errors.RmsError` raised by the repository (a rule that spans fields, an
unknown symbol, a stale version) becomes the message of the field it names. The template
shows each message next to its field (``aria-describedby``) and a summary at the top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from rms.api.problems import field_problems
from rms.errors import RmsError

__all__ = ["FormError", "validate"]


@dataclass
class FormError(Exception):
    """Messages per field (``_form`` for what belongs to no field) and the values sent."""

    messages: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: RmsError, values: Mapping[str, str], fields: Iterable[str]) -> FormError:
        name = exc.field if exc.field in set(fields) else "_form"
        text = exc.message
        if exc.field and text.startswith(f"{exc.field}: "):
            text = text.removeprefix(f"{exc.field}: ")
        return cls({name: text}, dict(values))


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
        # Forms post text: read "5" as 5 here (JSON bodies are strict, rms.api.schemas).
        body = model.model_validate(data, strict=False)
    except ValidationError as exc:
        messages: dict[str, str] = {}
        for problem in field_problems(exc.errors()):
            name = problem["field"] if problem["field"] in values else "_form"
            messages.setdefault(name, problem["reason"])
        raise FormError(messages, dict(values)) from None
    return body.model_dump(exclude_unset=True)
