"""The LibreTranslate adapter against a local server with LibreTranslate's HTTP API."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.adapters.translation import LibreTranslate
from bot.core.errors import TranslationUnavailable
from tests.fakes.fake_libretranslate import FakeLibreTranslate


@pytest.fixture()
async def server(aiohttp_server: Any) -> tuple[FakeLibreTranslate, str]:
    fake = FakeLibreTranslate(api_key="city-key")
    running = await aiohttp_server(fake.app())
    return fake, str(running.make_url(""))


async def test_several_texts_in_one_request_in_order(server: tuple[FakeLibreTranslate, str]) -> None:
    fake, url = server
    fake.learn("bn", "it", "আমার বাড়িওয়ালা তালা বদলেছে", "Il mio padrone di casa ha cambiato la serratura")
    async with aiohttp.ClientSession() as http:
        translator = LibreTranslate(http, url, api_key="city-key")
        result = await translator.translate(["আমার বাড়িওয়ালা তালা বদলেছে", "ধন্যবাদ"], "bn", "it")
    assert result == ["Il mio padrone di casa ha cambiato la serratura", "[it] ধন্যবাদ"]
    assert len(fake.requests) == 1 and fake.requests[0]["format"] == "text"


async def test_chinese_is_the_servers_zh_hans(server: tuple[FakeLibreTranslate, str]) -> None:
    fake, url = server
    async with aiohttp.ClientSession() as http:
        result = await LibreTranslate(http, url, api_key="city-key").translate(["ciao"], "it", "zh")
    assert result == ["[zh-Hans] ciao"] and fake.requests[0]["target"] == "zh-Hans"


async def test_same_language_sends_nothing(server: tuple[FakeLibreTranslate, str]) -> None:
    fake, url = server
    async with aiohttp.ClientSession() as http:
        assert await LibreTranslate(http, url).translate(["ciao"], "it", "it") == ["ciao"]
        assert await LibreTranslate(http, url).translate([], "bn", "it") == []
    assert fake.requests == []


@pytest.mark.parametrize("problem", ["wrong key", "server error", "no server"])
async def test_a_failing_server_is_translation_unavailable(
    server: tuple[FakeLibreTranslate, str], problem: str, unused_tcp_port: int
) -> None:
    fake, url = server
    key = "other" if problem == "wrong key" else "city-key"
    fake.failing = problem == "server error"
    if problem == "no server":
        url = f"http://127.0.0.1:{unused_tcp_port}"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(TranslationUnavailable):
            await LibreTranslate(http, url, api_key=key, timeout=2).translate(["testo"], "it", "bn")


async def test_a_language_the_server_lacks_is_refused_before_sending(aiohttp_server: Any) -> None:
    fake = FakeLibreTranslate()
    running = await aiohttp_server(fake.app())
    async with aiohttp.ClientSession() as http:
        with pytest.raises(TranslationUnavailable):
            await LibreTranslate(http, str(running.make_url(""))).translate(["x"], "it", "xx")
    assert fake.requests == []
