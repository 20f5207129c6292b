"""bombe.metrics: the unbiased pass@k estimator of Chen et al. (2021) and its average over tasks."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bombe.metrics import mean_pass_at_k, pass_at_k, status_counts


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """The direct binomial form, in exact arithmetic."""
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        (5, 2, 1, 0.4),
        (10, 3, 5, 1 - 21 / 252),
        (10, 3, 1, 0.3),
        (10, 1, 10, 1.0),
        (4, 1, 2, 0.5),                 # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (6, 2, 3, 0.8),                 # 1 - C(4,3)/C(6,3) = 1 - 4/20
        (200, 1, 1, 0.005),
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (100, 50, 2, 1 - 1225 / 4950),  # 1 - C(50,2)/C(100,2)
    ],
)
def test_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_1_is_the_fraction_correct():
    for n in range(1, 30):
        for c in range(n + 1):
            assert pass_at_k(n, c, 1) == pytest.approx(c / n, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_matches_the_binomial_form(data):
    n = data.draw(st.integers(min_value=1, max_value=200), label="n")
    c = data.draw(st.integers(min_value=0, max_value=n), label="c")
    k = data.draw(st.integers(min_value=1, max_value=n), label="k")
    got = pass_at_k(n, c, k)
    assert isinstance(got, float)
    assert 0.0 <= got <= 1.0
    assert got == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_grows_with_correct_samples_and_with_k(data):
    n = data.draw(st.integers(min_value=2, max_value=200), label="n")
    c = data.draw(st.integers(min_value=0, max_value=n - 1), label="c")
    k = data.draw(st.integers(min_value=1, max_value=n - 1), label="k")
    assert pass_at_k(n, c + 1, k) >= pass_at_k(n, c, k) - 1e-12
    assert pass_at_k(n, c, k + 1) >= pass_at_k(n, c, k) - 1e-12


def test_no_correct_samples_gives_zero():
    for n in (1, 7, 200):
        for k in range(1, n + 1, max(1, n // 5)):
            assert pass_at_k(n, 0, k) == 0.0


def test_fewer_wrong_samples_than_k_gives_one():
    assert pass_at_k(10, 6, 5) == 1.0    # n - c = 4 < 5: every draw of 5 holds a correct one
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(3, 1, 3) == 1.0
    assert pass_at_k(10, 5, 5) < 1.0     # n - c = 5 = k: one draw of 5 can miss


@pytest.mark.parametrize(
    "n, c, k",
    [(5, 1, 6), (1, 0, 2), (5, 1, 0), (5, 1, -1), (5, 6, 1), (5, -1, 1), (0, 0, 1)],
)
def test_invalid_arguments_raise_value_error(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_pass_at_k():
    per_task = {"a": (5, 2), "b": (10, 3), "c": (4, 0)}
    assert mean_pass_at_k(per_task, 1) == pytest.approx((0.4 + 0.3 + 0.0) / 3)
    assert mean_pass_at_k(per_task, 4) == pytest.approx(
        sum(float(exact_pass_at_k(n, c, 4)) for n, c in per_task.values()) / 3
    )
    assert mean_pass_at_k({"only": (10, 3)}, 5) == pytest.approx(1 - 21 / 252)


def test_mean_pass_at_k_weighs_tasks_not_samples():
    # a task with many samples counts once, like one with few
    assert mean_pass_at_k({"a": (100, 100), "b": (1, 0)}, 1) == pytest.approx(0.5)


def test_mean_pass_at_k_is_none_when_any_task_has_too_few_samples():
    assert mean_pass_at_k({"a": (10, 3), "b": (4, 4)}, 5) is None
    assert mean_pass_at_k({"a": (5, 5)}, 5) == 1.0


def test_mean_pass_at_k_of_no_tasks_is_none():
    assert mean_pass_at_k({}, 1) is None


def test_status_counts():
    assert status_counts(["pass", "fail", "pass", "timeout"]) == {"fail": 1, "pass": 2, "timeout": 1}
    assert list(status_counts(["timeout", "error", "pass"])) == ["error", "pass", "timeout"]
    assert status_counts([]) == {}
