from pathlib import Path

import pytest
import yaml

from bot.core.catalog import Catalog, load_catalog
from bot.core.errors import ConfigurationError, UnknownTopic
from bot.core.settings import PROJECT_DIR

SHARED = PROJECT_DIR.parent / "shared"


def test_copy_keeps_every_shared_topic_id(catalog: Catalog) -> None:
    shared = SHARED / "topics.yml"
    if not shared.exists():
        pytest.skip("../shared/topics.yml is not beside this checkout")
    ids = set(yaml.safe_load(shared.read_text())["topics"])
    assert ids <= set(catalog.topics)


def test_copy_keeps_every_shared_city_and_province(catalog: Catalog) -> None:
    shared = SHARED / "cities.yml"
    if not shared.exists():
        pytest.skip("../shared/cities.yml is not beside this checkout")
    cities = yaml.safe_load(shared.read_text())["cities"]
    assert {c: v["province"] for c, v in cities.items()} == {
        c.id: c.province for c in catalog.cities.values() if c.id in cities
    }


def test_sixteen_cities_with_lower_case_italian_ids(catalog: Catalog) -> None:
    assert len(catalog.cities) == 16
    assert all(c.id == c.name.lower() for c in catalog.cities.values())
    assert catalog.city("caserta").province == "CE"


def test_urgent_topics(catalog: Catalog) -> None:
    assert {t.id for t in catalog.topics.values() if t.urgent} == {
        "eviction",
        "emergency_shelter",
        "emergency_health",
    }


def test_unknown_topic_is_a_domain_error(catalog: Catalog) -> None:
    with pytest.raises(UnknownTopic):
        catalog.topic("weather")


def test_malformed_catalog_fails_fast(tmp_path: Path) -> None:
    (tmp_path / "topics.yml").write_text("categories: {a: A}\ntopics: {x: {category: missing, about: X}}\n")
    (tmp_path / "cities.yml").write_text("cities: {}\n")
    with pytest.raises(ConfigurationError, match="unknown category"):
        load_catalog(tmp_path)
