"""Expressions: helpers do what checks need, and nothing reaches the host."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.playbook import HELPERS, ExpressionError, ExpressionSyntaxError, compile_expression
from agent.playbook.expressions import MAX_EXPONENT, environment

ALARMS = [
    {"level": "major", "code": "E100", "location": {"cabinet": 1, "slot": 3, "port": None}},
    {"level": "minor", "code": "E200", "location": {"cabinet": 1, "slot": 4, "port": None}},
    {"level": "minor", "code": "E201", "location": None},
]


def evaluate(source: str, **context: Any) -> Any:
    return compile_expression(source).evaluate(context)


# --- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ('count(result, level="minor")', 2),
    ('count(result, level="minor", code="E201")', 1),
    ('count(result, level="critical")', 0),
    ("count(result)", 3),
    ('count(result, location={"cabinet": 1, "slot": 3, "port": None})', 1),
    ('all_match(result, level="minor")', False),
    ("all_match([], level='minor')", True),
    ('any_match(result, code="E100")', True),
    ('any_match(result, code="E999")', False),
    ('none_match(result, level="major")', False),
    ('none_match(result, code="E999")', True),
    ("in_range(5, 1, 5)", True),
    ("in_range(0.5, 1, 5)", False),
    ("in_range(result[0].location.slot, 1, 3)", True),
    ('matches("KX-NS1000", "^KX-NS")', True),
    ('matches("KX-TDE600", "^KX-NS")', False),
    ("result | length == 3", True),
    ("result[1].code", "E200"),
])
def test_helpers(source: str, expected: Any) -> None:
    assert evaluate(source, result=ALARMS) == expected


@pytest.mark.parametrize(("source", "words"), [
    ('count(result, levle="major")', 'records have no field "levle"'),
    ("count(result[0])", "count() needs a list of records, got a mapping"),
    ("count([1, 2])", "needs a list of records, found a number"),
    ('in_range("5", 1, 9)', "in_range() needs numbers, got a string"),
    ("matches(5, 'x')", "matches() needs strings"),
    ("matches('x', '(')", "bad regular expression"),
    ("count(nothing)", "'nothing' is undefined"),
])
def test_helper_misuse_is_a_readable_error(source: str, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source, result=ALARMS)
    assert words in str(caught.value)


@given(st.lists(st.sampled_from(["major", "minor"]), max_size=20))
def test_count_agrees_with_any_none_and_all(levels: list[str]) -> None:
    records = [{"level": level} for level in levels]
    majors = evaluate('count(r, level="major")', r=records)
    assert majors == levels.count("major")
    assert evaluate('any_match(r, level="major")', r=records) is (majors > 0)
    assert evaluate('none_match(r, level="major")', r=records) is (majors == 0)
    assert evaluate('all_match(r, level="major")', r=records) is (majors == len(levels))


# --- strictness ----------------------------------------------------------------------


def test_undefined_names_are_errors_not_false() -> None:
    expression = compile_expression("max_minor_alarms > 2")
    with pytest.raises(ExpressionError, match="'max_minor_alarms' is undefined"):
        expression.is_true({})
    assert expression.is_true({"max_minor_alarms": 3})


def test_missing_attribute_is_an_error_but_can_be_tested() -> None:
    with pytest.raises(ExpressionError, match="no attribute 'mood'"):
        compile_expression("result.mood == 'day'").is_true({"result": {"mode": "day"}})
    assert evaluate("result.mood is defined", result={"mode": "day"}) is False


def test_run_time_python_errors_are_wrapped() -> None:
    with pytest.raises(ExpressionError, match="ZeroDivisionError"):
        evaluate("1 / 0")


def test_syntax_error_at_compile_time_with_line() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression("count(result)\n  == (0")
    assert caught.value.lineno == 2


def test_compiled_once_evaluated_many_times() -> None:
    expression = compile_expression("x * 2")
    assert [expression.evaluate({"x": n}) for n in range(3)] == [0, 2, 4]
    assert expression.source == "x * 2"


# --- sandbox -------------------------------------------------------------------------


ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "result.__class__",
    "result|attr('__class__')",
    "cycler.__init__.__globals__",
    "lipsum.__globals__",
    "joiner.__init__.__globals__",
    "namespace.__init__.__globals__",
    "range.__self__",
    "count.__globals__['__builtins__']",
    "count.__code__",
    "self.__init__.__globals__",
    "self._TemplateReference__context",
    "'{0.__class__.__mro__}'.format(1)",
    "result.clear()",
    "result.update({'a': 1})",
    "[1].append(2)",
    "'x' * 100000000",
    "9 ** (9 ** 9)",
    "((10 ** 1000) ** 1000) ** 1000",
    "(10 ** 100) * (10 ** 100) * (10 ** 100000)",
    "config",
    "request",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_are_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(source, result={"a": 1})


def test_no_default_globals_remain() -> None:
    assert set(environment().globals) == set(HELPERS)
    for name in ("range", "lipsum", "cycler", "joiner", "namespace", "dict"):
        with pytest.raises(ExpressionError, match=f"'{name}' is undefined"):
            evaluate(f"{name}()")


def test_big_but_bounded_arithmetic_still_works() -> None:
    assert evaluate(f"2 ** {MAX_EXPONENT}") == 2**MAX_EXPONENT
    assert evaluate("9 ** 9 ** 9") == (9**9) ** 9  # Jinja's ** groups to the left
    assert evaluate("'ab' * 3") == "ababab"
    assert evaluate("[0] * 3") == [0, 0, 0]


def test_sandbox_refusal_is_named_as_such() -> None:
    with pytest.raises(ExpressionError, match="refused by the sandbox"):
        evaluate("().__class__")
