"""Topics and cities: the ids that tie NLU intents, knowledge entries and tickets together.

Both lists are copies of the network's shared contract (``topics.yml`` and ``cities.yml`` at the
project root) so the assistant never needs ``../shared`` at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.errors import ConfigurationError, UnknownCity, UnknownTopic, YamlFileError
from bot.core.yamlfile import read_yaml


@dataclass(frozen=True)
class Topic:
    id: str
    category: str
    about: str
    urgent: bool


@dataclass(frozen=True)
class City:
    id: str
    name: str
    province: str
    region: str


@dataclass(frozen=True)
class Catalog:
    """Every topic, category and city the desk knows, in file order."""

    categories: dict[str, str]
    topics: dict[str, Topic]
    cities: dict[str, City]

    def topic(self, topic_id: str) -> Topic:
        try:
            return self.topics[topic_id]
        except KeyError:
            raise UnknownTopic(topic_id) from None

    def city(self, city_id: str) -> City:
        try:
            return self.cities[city_id]
        except KeyError:
            raise UnknownCity(city_id) from None

    def topics_in(self, category: str) -> list[Topic]:
        return [t for t in self.topics.values() if t.category == category]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml(path).data
    except YamlFileError as exc:
        raise ConfigurationError(f"cannot read {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a mapping at the top")
    return data


def load_catalog(project_dir: Path) -> Catalog:
    """Read ``topics.yml`` and ``cities.yml``; fail fast on a malformed file."""
    topics_file = _read(project_dir / "topics.yml")
    cities_file = _read(project_dir / "cities.yml")
    try:
        categories = {str(k): str(v) for k, v in topics_file["categories"].items()}
        topics = {
            tid: Topic(tid, t["category"], t["about"], bool(t.get("urgent", False)))
            for tid, t in topics_file["topics"].items()
        }
        cities = {
            cid: City(cid, c["name"], c["province"], c["region"]) for cid, c in cities_file["cities"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"topics.yml or cities.yml is malformed: {exc!r}") from exc
    for topic in topics.values():
        if topic.category not in categories:
            raise ConfigurationError(f"topic {topic.id} has unknown category {topic.category}")
    return Catalog(categories=categories, topics=topics, cities=cities)
