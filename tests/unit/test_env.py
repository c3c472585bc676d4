"""The test support itself: a missing server skips locally and fails under CI=true; wait_for is
bounded and says what it waited for."""

from __future__ import annotations

import itertools

import pytest

from tests.support.env import in_ci, need, wait_for, wait_for_async


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("TRUE", True), ("", False), ("1", False)]
)
def test_ci_is_true_only_when_the_variable_says_true(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_a_missing_program_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    need(True, "never shown")
    with pytest.raises(pytest.skip.Exception, match="promtool is missing"):
        need(False, "promtool is missing")
    monkeypatch.setenv("CI", "true")
    need(True, "never shown")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true.*promtool is missing"):
        need(False, "promtool is missing")


def test_wait_for_returns_once_true_and_names_what_it_waited_for() -> None:
    counter = itertools.count()
    wait_for(lambda: next(counter) >= 3, "three polls", 5, poll=0.001)
    with pytest.raises(AssertionError, match="waiting for the moon"):
        wait_for(lambda: False, "the moon", 0.05, poll=0.01)
    with pytest.raises(ZeroDivisionError):
        wait_for(lambda: 1 / 0, "a division", 0.05)
    from_zero = itertools.count()  # 1 / 0 first: ignored, then true
    wait_for(lambda: 1 / next(from_zero) > 0, "a division", 1, ignore=(ZeroDivisionError,))


async def test_wait_for_async_awaits_coroutine_conditions() -> None:
    calls: list[int] = []

    async def ready() -> bool:
        calls.append(1)
        return len(calls) >= 2

    await wait_for_async(ready, "two calls", 5, poll=0.001)
    with pytest.raises(AssertionError, match="waiting for nothing"):
        await wait_for_async(lambda: False, "nothing", 0.05, poll=0.01)
