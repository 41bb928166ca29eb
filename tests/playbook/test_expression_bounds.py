"""Expressions are bounded before they allocate (issue 13 #5).

Each hostile expression below once allocated ~100 M characters (518 MB) before the
rendered-length check saw it, backtracked for seconds, or sent the agent's internals
to the PBX. Now each is refused inside the sandbox; memory is watched with tracemalloc,
so a check that ran *after* allocating would fail here.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from agent.playbook import ExpressionError, ExpressionSyntaxError, compile_expression
from agent.playbook.expressions import (
    MAX_CONCAT_OPERANDS,
    MAX_SIZE_ARGUMENT,
    MAX_SOURCE_LEN,
    compile_template,
)

#: Far below what any refused case would allocate (10**8 characters ≈ 100 MB).
ALLOWED_PEAK_BYTES = 5_000_000


@pytest.fixture
def peak() -> Iterator[list[int]]:
    tracemalloc.start()
    holder: list[int] = []
    yield holder
    holder.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    assert holder[-1] < ALLOWED_PEAK_BYTES


def render(source: str, **context: Any) -> str:
    return compile_template(source).render(context)


@pytest.mark.parametrize("source", [
    "{{ 'a'|center(10**8) }}",
    "{{ '%100000000d'|format(1) }}",
    "{{ '%100000000d' % 1 }}",
    "{{ 'x'|indent(10**8, true) }}",
    "{{ text|indent(9000, true) }}",
    "{{ text|replace('a', 'aaaaaaaaaa')|replace('a', 'aaaaaaaaaa') }}",
    "{{ 'a'.center(10**8) }}",
    "{{ 'a'.ljust(10**8) }}",
    "{{ 'a'.zfill(10**8) }}",
    "{{ '{:>100000000}'.format(1) }}",
    "{{ text.replace('a', 'aaaaaaaaaa') }}",
    "{{ [1]|batch(10**8, 'x')|list }}",
    "{{ 'x'|wordwrap(10**8) }}",
    "{{ big + big }}",
])
def test_size_amplification_is_refused_before_allocation(source: str, peak: list[int]) -> None:
    text = "a\n" * 200_000  # 400 k characters, 200 k lines
    big = "b" * 600_000
    with pytest.raises(ExpressionError) as caught:
        render(source, text=text, big=big)
    assert "refused by the sandbox" in str(caught.value) or "at most" in str(caught.value)


def test_ordinary_sizes_still_work() -> None:
    assert render("{{ 'ab'|center(6) }}") == "  ab  "
    assert render("{{ '%05d'|format(42) }}") == "00042"
    assert render("{{ 'x y'|replace(' ', '-') }}") == "x-y"
    assert render("{{ '{:>4}'.format(7) }}") == "   7"
    assert render("{{ 'a' ~ 'b' ~ 'c' }}") == "abc"
    assert compile_expression("'ab' * 3").evaluate({}) == "ababab"


def test_a_size_argument_just_over_the_bound_is_named() -> None:
    with pytest.raises(ExpressionError, match=str(MAX_SIZE_ARGUMENT + 1)):
        render("{{ 'a'|center(n) }}", n=MAX_SIZE_ARGUMENT + 1)


def test_catastrophic_backtracking_is_impossible() -> None:
    """``^(a+)+$`` doubles per character on a backtracking engine; RE2 is linear."""
    source = 'matches("a" * 5000 + "!", "^(a+)+$")'
    assert compile_expression(source).evaluate({}) is False


def test_a_pattern_re2_cannot_run_is_a_clear_error() -> None:
    with pytest.raises(ExpressionError, match="back-references"):
        compile_expression(r'matches("aa", "(a)\\1")').evaluate({})


@pytest.mark.parametrize("source", ["{{ self }}", "{{ count }}", "{{ matches }}"])
def test_internal_objects_are_never_rendered(source: str) -> None:
    with pytest.raises(ExpressionError, match="only plain values"):
        render(source)


def test_pprint_is_not_available() -> None:
    with pytest.raises(ExpressionSyntaxError):
        render("{{ count|pprint }}")


def test_chained_joins_cannot_multiply_a_value() -> None:
    source = " ~ ".join(["x"] * (MAX_CONCAT_OPERANDS + 1))
    with pytest.raises(ExpressionSyntaxError, match="too many ~ joins"):
        compile_expression(source)
    with pytest.raises(ExpressionSyntaxError, match="too many ~ joins"):
        compile_template("{{ " + source + " }}")


def test_an_overlong_expression_is_refused_at_load_time() -> None:
    with pytest.raises(ExpressionSyntaxError, match=f"at most {MAX_SOURCE_LEN}"):
        compile_expression("1 + " * MAX_SOURCE_LEN + "1")
