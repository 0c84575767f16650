"""The lesson's exercise 2, as a learner writes it: pytest and httpx test
the asynchronous endpoint, here over HTTP against a running fcgilab stack
(the lesson's version imports the FastAPI app and uses ASGITransport; the
assertions are the same).

    FCGILAB_URL=http://localhost:8000 python3 -m pytest tests/exercise2

Debian 12: python3-httpx, python3-pytest, python3-pytest-asyncio.
"""

import asyncio
import os
import time

import httpx
import pytest

BASE = os.environ.get("FCGILAB_URL", "http://localhost:8000").rstrip("/")


@pytest.mark.asyncio
async def test_wait_async():
    async with httpx.AsyncClient(base_url=BASE) as client:
        response = await client.get("/wait_async?secs=1")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"


@pytest.mark.asyncio
async def test_wait_async_waits_and_echoes_the_seconds():
    async with httpx.AsyncClient(base_url=BASE) as client:
        start = time.monotonic()
        response = await client.get("/wait_async", params={"secs": 0.25})
        took = time.monotonic() - start
    assert response.json() == {"status": "ready", "seconds": 0.25}
    assert took >= 0.25


@pytest.mark.asyncio
async def test_twenty_waits_at_once_take_one_wait_not_twenty():
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=BASE, limits=limits, timeout=30) as client:
        start = time.monotonic()
        responses = await asyncio.gather(
            *(client.get("/wait_async?secs=0.5") for _ in range(20))
        )
        took = time.monotonic() - start
    assert [r.status_code for r in responses] == [200] * 20
    # one after another would be 10 s; generous slack for a busy machine
    assert 0.5 <= took < 5


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query, kind",
    [("", "missing"), ("?secs=abc", "float_parsing"), ("?secs=-1", "greater_than_equal")],
)
async def test_bad_secs_get_fastapis_422(query, kind):
    async with httpx.AsyncClient(base_url=BASE) as client:
        response = await client.get("/wait_async" + query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == kind
