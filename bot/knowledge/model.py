"""The schema of the files in ``knowledge/`` (see knowledge/README.md for examples)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

MAX_MESSAGE_CHARS = 700
MAX_TITLE_CHARS = 24
MAX_CATEGORY_CHARS = 20

_TODO = re.compile(r"^\s*todo\b", re.IGNORECASE)


def is_todo(value: object) -> bool:
    """True for the explicit marker of a fact nobody has filled in yet."""
    return isinstance(value, str) and _TODO.match(value) is not None


def _todo_mapping_to_text(value: Any) -> Any:
    """Accept ``{todo: "why"}`` as well as the plain word ``todo``."""
    if isinstance(value, dict) and set(value) == {"todo"}:
        return f"todo: {value['todo']}"
    return value


Text = Annotated[str, Field(min_length=1)]
OfficeField = Annotated[str, BeforeValidator(_todo_mapping_to_text), Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    title: Text
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]


class TopicFacts(_Strict):
    """Facts of a topic that every language shares."""

    topic: Text
    checked: date
    sources: Annotated[list[Source], Field(min_length=1)]
    offices: list[str] = Field(default_factory=list)


class TopicText(_Strict):
    """What one language says about one topic."""

    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
    answer: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]], Field(min_length=1)
    ]
    now: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)] | None = None


MAX_NOTE_CHARS = 300


class NoteTranslation(_Strict):
    """One office's ``notes`` in one language, beside the English note it translates: when staff edit
    the English, the translation is known to be of an older text (and is not shown)."""

    en: Annotated[str, Field(min_length=1, max_length=MAX_NOTE_CHARS)]
    text: Annotated[str, Field(min_length=1, max_length=MAX_NOTE_CHARS)]

    @property
    def untranslated(self) -> bool:
        return is_todo(self.text)

    def translates(self, note: str) -> bool:
        return not self.untranslated and self.en.strip() == note.strip()


class LanguageTextFile(_Strict):
    categories: dict[str, Annotated[str, Field(min_length=1, max_length=MAX_CATEGORY_CHARS)]] = Field(
        default_factory=dict
    )
    topics: dict[str, TopicText] = Field(default_factory=dict)
    office_types: dict[str, Text] = Field(default_factory=dict)
    office_notes: dict[str, dict[str, NoteTranslation]] = Field(default_factory=dict)  # city -> kind


OFFICE_FACTS = ("name", "address", "hours", "phone", "url")

# What a canned reply may say in braces, filled in when a mediator sends it
REPLY_VARIABLES = ("ticket", "city", "office", "date")
_VARIABLE = re.compile(r"\{([^{}]*)\}")


def reply_variables(text: str) -> set[str]:
    return set(_VARIABLE.findall(text))


class CannedReply(_Strict):
    """A reply staff keep ready for mediators (``knowledge/replies/<id>.yml``), in every language, so a
    mediator can answer a person whose language they do not read. ``office`` names the kind of office
    ``{office}`` stands for: that city's office of this kind."""

    reply: Text
    title: Annotated[str, Field(min_length=1, max_length=60)]  # for the mediator's list (Italian)
    office: str = "one_stop_shop"
    text: dict[str, Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]]

    @field_validator("text")
    @classmethod
    def _known_variables(cls, value: dict[str, str]) -> dict[str, str]:
        for language, text in value.items():
            unknown = reply_variables(text) - set(REPLY_VARIABLES)
            if unknown:
                known = ", ".join("{" + name + "}" for name in REPLY_VARIABLES)
                raise ValueError(f"{language}: unknown variable {sorted(unknown)}; use {known}")
        return value


class OfficeSource(_Strict):
    """A page someone read for an office's facts: where, when, and which facts it states."""

    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    read: date
    gives: list[str] = Field(default_factory=list)

    @field_validator("gives")
    @classmethod
    def _gives_office_facts(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in (*OFFICE_FACTS, "notes")]
        if unknown:
            raise ValueError(f"gives names facts of an office ({', '.join(OFFICE_FACTS)}, notes): {unknown}")
        return value


class Office(_Strict):
    """A city's office of one kind. Any field may be ``todo``; the assistant never shows one.

    Every filled address, hours or phone needs a source: a fact nobody can trace is not shown to a
    person who will walk across a city on the strength of it.
    """

    name: OfficeField
    address: OfficeField = "todo"
    hours: OfficeField = "todo"
    phone: OfficeField = "todo"
    url: OfficeField = "todo"
    notes: Annotated[str, Field(min_length=1, max_length=MAX_NOTE_CHARS)] | None = None  # English
    sources: list[OfficeSource] = Field(default_factory=list)

    @model_validator(mode="after")
    def _facts_have_a_source(self) -> Office:
        filled = [name for name in ("address", "hours", "phone") if not is_todo(getattr(self, name))]
        if filled and not self.sources:
            raise ValueError(f"{', '.join(filled)} filled but no sources (url and date read)")
        return self

    @field_validator("url")
    @classmethod
    def _url_is_web_address(cls, value: str) -> str:
        if not is_todo(value) and not value.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or be todo)")
        return value

    def todos(self) -> list[str]:
        return [name for name in OFFICE_FACTS if is_todo(getattr(self, name))]


def _office_or_todo(value: Any) -> Any:
    value = _todo_mapping_to_text(value)
    if isinstance(value, str) and not is_todo(value):
        raise ValueError("an office is either a mapping (name, address, ...) or the word todo")
    return value


class Handoff(_Strict):
    """What the city's team promises when a question is passed to a person."""

    answer_within_working_days: Annotated[int, Field(ge=1, le=30)] = 2


class CityKnowledge(_Strict):
    city: Text
    aliases: list[Text] = Field(default_factory=list)
    handoff: Handoff = Field(default_factory=Handoff)
    offices: dict[str, Annotated[Office | str, BeforeValidator(_office_or_todo)]] = Field(
        default_factory=dict
    )


class OfficeTypesFile(_Strict):
    office_types: dict[str, Text]
