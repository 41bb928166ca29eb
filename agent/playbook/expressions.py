"""Playbook expressions: Jinja2, sandboxed, strict, compiled once.

A playbook comes from a support engineer's laptop or a shared repository, yet it runs on
the agent's host next to customer credentials. Expressions therefore run in an immutable
sandbox with no default globals, unknown names are errors (a typo must never turn a check
into "always true"), and a handful of helpers cover what health checks actually ask.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import re2
from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from agent.errors import PbxdiagError

#: Bounds on ``*`` and ``**``: a playbook must not be able to exhaust the host's memory or
#: CPU with one line (``'x' * 10**10``, ``(10**1000)**1000**1000``).
MAX_REPEAT_LEN = 1_000_000
MAX_EXPONENT = 1_000
MAX_INT_BITS = 100_000
#: Bounds checked *before* anything is allocated (issue 13 #5): a width, count or indent
#: given to a filter or a string method; a ``%``/``format`` field width; the characters of
#: one expression's source; the ``~`` operands in one expression.
MAX_SIZE_ARGUMENT = 10_000
MAX_SOURCE_LEN = 4_096
MAX_CONCAT_OPERANDS = 16


class ExpressionError(PbxdiagError):
    """An expression could not be compiled or evaluated; the message says why, in words."""


class ExpressionSyntaxError(ExpressionError):
    """Syntax error; ``lineno`` is 1-based inside the expression text (for block scalars)."""

    def __init__(self, message: str, lineno: int = 1) -> None:
        self.lineno = lineno
        super().__init__(message)


# --- helpers exposed to playbooks --------------------------------------------------


def _require_defined(value: Any) -> None:
    """Raise Jinja's own "x is undefined" error instead of a confusing type complaint."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _records(items: Any, helper: str) -> Sequence[Mapping[str, Any]]:
    """Check the helper got a list of records (what list getters return), say so if not."""
    _require_defined(items)
    if not isinstance(items, (list, tuple)):
        raise ExpressionError(f"{helper}() needs a list of records, got {kind_of(items)}")
    for item in items:
        if not isinstance(item, Mapping):
            raise ExpressionError(f"{helper}() needs a list of records, found {kind_of(item)}")
    return items


def _matches_all(item: Mapping[str, Any], match: Mapping[str, Any], helper: str) -> bool:
    """A field name missing from a record is a typo, not a non-match: fail loudly."""
    for key, wanted in match.items():
        if key not in item:
            fields = ", ".join(sorted(item))
            raise ExpressionError(f'{helper}(): records have no field "{key}" (fields: {fields})')
        if item[key] != wanted:
            return False
    return True


def count(items: Any, **match: Any) -> int:
    """Number of records whose fields equal every given value."""
    return sum(1 for item in _records(items, "count") if _matches_all(item, match, "count"))


def all_match(items: Any, **match: Any) -> bool:
    """True when every record matches (and trivially for an empty list)."""
    return all(_matches_all(item, match, "all_match") for item in _records(items, "all_match"))


def any_match(items: Any, **match: Any) -> bool:
    """True when at least one record matches."""
    return any(_matches_all(item, match, "any_match") for item in _records(items, "any_match"))


def none_match(items: Any, **match: Any) -> bool:
    """True when no record matches."""
    return not any(
        _matches_all(item, match, "none_match") for item in _records(items, "none_match")
    )


def in_range(value: Any, low: Any, high: Any) -> bool:
    """Inclusive range check on numbers; a non-number is an error, not ``False``."""
    for arg in (value, low, high):
        _require_defined(arg)
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise ExpressionError(f"in_range() needs numbers, got {kind_of(arg)}")
    return bool(low <= value <= high)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the reason is in our message, not on stderr


@lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    """RE2: linear time in the text whatever the pattern, so ``^(a+)+$`` cannot hang a run.

    RE2 has no back-references or look-arounds; a pattern using them is refused with that
    reason rather than run on a backtracking engine."""
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and \
            isinstance(exc.args[0], bytes) else str(exc)
        raise ExpressionError(f"matches(): bad regular expression {pattern!r}: {reason} "
                              "(RE2 syntax: no back-references or look-arounds)") from None


def matches(value: Any, regex: Any) -> bool:
    """``re.search`` of a string field (anywhere in it; anchor with ^ and $ if needed)."""
    for arg in (value, regex):
        _require_defined(arg)
        if not isinstance(arg, str):
            raise ExpressionError(f"matches() needs strings, got {kind_of(arg)}")
    return _regex(regex).search(value) is not None


def _moment(value: Any) -> datetime:
    _require_defined(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ExpressionError(f"seconds_between() needs ISO 8601 times, got {value!r}")


def seconds_between(earlier: Any, later: Any) -> float:
    """``later - earlier`` in seconds (negative when ``later`` is before): clock drift checks.

    Mixing a zoned and an unzoned time is an error, not a silent guess at the zone."""
    start, end = _moment(earlier), _moment(later)
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ExpressionError("seconds_between(): one time has a zone and the other has not")
    return (end - start).total_seconds()


HELPERS: Mapping[str, Callable[..., Any]] = {
    "count": count,
    "all_match": all_match,
    "any_match": any_match,
    "none_match": none_match,
    "in_range": in_range,
    "matches": matches,
    "seconds_between": seconds_between,
}

#: Names the engine provides itself: the step's answer, the front-line answers, the
#: PBX-local time when the step starts, whether the site is in working hours, and whether
#: programming changes are only being shown (no ``--apply``).
BUILTIN_NAMES: frozenset[str] = frozenset({"result", "answers", "now", "in_working_hours",
                                           "check_mode"})

#: Names a playbook may not bind with ``vars``, ``register`` or ``loop_var``.
RESERVED_NAMES: frozenset[str] = frozenset({*HELPERS, *BUILTIN_NAMES})


# --- the environment ---------------------------------------------------------------


class PlaybookEnvironment(ImmutableSandboxedEnvironment):
    """Immutable sandbox, strict undefined, no default globals, bounded ``*`` and ``**``."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, finalize=_plain_only)
        self.globals.clear()  # range, lipsum, cycler, joiner, namespace, dict: not needed
        self.globals.update(HELPERS)
        for name in _UNSAFE_FILTERS:
            self.filters.pop(name, None)
        self.filters.update({name: _bounded_filter(name, f) for name, f in self.filters.items()})

    def call(__self, __context: Context, __obj: Any,  # noqa: N805 (Jinja's signature)
             *args: Any, **kwargs: Any) -> Any:
        """Check a string method's size arguments before it allocates anything."""
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` is wrapped by Jinja at attribute access: check before it runs."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        name: str = value.__name__
        inner = wrapped

        def bounded(*args: Any, **kwargs: Any) -> str:
            _check_str_method(text, name, args, kwargs)
            return inner(*args, **kwargs)

        return bounded

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Report ``cycler.__init__`` as "cycler is undefined", not as a sandbox refusal."""
        _require_defined(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _require_defined(obj)
        return super().getitem(obj, argument)

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            _check_exponent(left, right)
            return operator.pow(left, right)
        if operator_ == "%":
            if isinstance(left, str):
                _check_format_widths(left)
            return operator.mod(left, right)
        if operator_ == "+":
            _check_sum(left, right)
            return operator.add(left, right)
        _check_repeat(left, right)
        return operator.mul(left, right)


#: ``pprint`` prints any object's repr (internals); ``random`` makes a run unrepeatable.
_UNSAFE_FILTERS = frozenset({"pprint", "random", "xmlattr", "urlize"})
_PLAIN = (str, int, float, datetime)


def _plain_only(value: Any) -> Any:
    """What a template prints is sent to a PBX: plain values only.

    Null would send the word "None"; a helper, ``self`` or any other object would send its
    internals (``<function count at 0x…>``)."""
    if value is None:
        raise ExpressionError("a {{ }} in the template is null (None); give it a value")
    if isinstance(value, (Undefined, *_PLAIN)) or _plain_data(value):
        return value
    raise ExpressionError(f"a {{{{ }}}} in the template is {kind_of(value)}, not text or a "
                          "number: only plain values can be sent to the PBX")


def _plain_data(value: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(value, _PLAIN) or value is None:
        return True
    if isinstance(value, Mapping):
        return all(_plain_data(k, depth + 1) and _plain_data(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain_data(item, depth + 1) for item in value)
    return False


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The same filter, refusing a size argument (width, count, indent) over the bound.

    Jinja passes a context or environment first to some filters: those markers are kept,
    so the wrapper is transparent to Jinja's calling convention."""
    # a filter marked pass_context/pass_environment gets that first, then its value
    first = 2 if hasattr(func, "jinja_pass_arg") else 1

    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[first:], *kwargs.values()):
            _check_size_argument(value, f"filter {name}")
        value_and_args = args[first - 1:]
        if name == "replace":
            _check_replace(value_and_args, kwargs)
        elif name == "format" and value_and_args and isinstance(value_and_args[0], str):
            _check_format_widths(value_and_args[0])
        elif name == "indent" and value_and_args and isinstance(value_and_args[0], str):
            _check_indent(value_and_args[0], value_and_args[1:], kwargs)
        return func(*args, **kwargs)

    for marker in ("jinja_pass_arg",):
        if hasattr(func, marker):
            setattr(bounded, marker, getattr(func, marker))
    bounded.__name__ = getattr(func, "__name__", name)
    bounded.__doc__ = func.__doc__
    return bounded


def _check_size_argument(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) \
            and abs(value) > MAX_SIZE_ARGUMENT:
        raise SecurityError(f"{what}: {value} is larger than {MAX_SIZE_ARGUMENT}")


def _check_replace(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """``replace`` can multiply a text's length: work out the result's size first."""
    strings = [a for a in args if isinstance(a, str)]
    if len(strings) < 3:
        return
    text, old, new = strings[:3]
    _check_replaced_length(text, old, new)


def _check_replaced_length(text: str, old: str, new: str) -> None:
    hits = text.count(old) if old else len(text) + 1
    if len(text) + hits * (len(new) - len(old)) > MAX_REPEAT_LEN:
        raise SecurityError(f"replace would make more than {MAX_REPEAT_LEN} characters")


def _check_indent(text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    width = kwargs.get("width", args[0] if args else 4)
    size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    if (text.count("\n") + 1) * size + len(text) > MAX_REPEAT_LEN:
        raise SecurityError(f"indent would make more than {MAX_REPEAT_LEN} characters")


#: A ``%`` conversion's or a ``{}`` field's width and precision: ``%100000000d``.
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_NUMBER = re.compile(r"\{[^{}]*?(\d+)[^{}]*\}")


def _check_format_widths(spec: str) -> None:
    for match in _PERCENT_WIDTH.finditer(spec):
        for group in match.groups():
            if group == "*" or (group and int(group) > MAX_SIZE_ARGUMENT):
                raise SecurityError(f"format width {group} is larger than {MAX_SIZE_ARGUMENT}")


def _check_str_method(text: str, name: str, args: tuple[Any, ...],
                      kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        _check_size_argument(value, f"str.{name}")
    if name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        _check_replaced_length(text, args[0], args[1])
    elif name in ("format", "format_map"):
        for match in _BRACE_NUMBER.finditer(text):
            if int(match.group(1)) > MAX_SIZE_ARGUMENT:
                raise SecurityError(f"format width {match.group(1)} is larger than "
                                    f"{MAX_SIZE_ARGUMENT}")
    elif name == "join" and args and isinstance(args[0], (list, tuple)):
        size = sum(len(x) for x in args[0] if isinstance(x, str)) + len(text) * len(args[0])
        if size > MAX_REPEAT_LEN:
            raise SecurityError(f"join would make more than {MAX_REPEAT_LEN} characters")


def _check_sum(left: Any, right: Any) -> None:
    if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)) \
            and len(left) + len(right) > MAX_REPEAT_LEN:
        raise SecurityError(f"result would exceed {MAX_REPEAT_LEN} items")


def _check_exponent(base: Any, exponent: Any) -> None:
    if not isinstance(exponent, (int, float)):
        return
    if abs(exponent) > MAX_EXPONENT:
        raise SecurityError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 \
            and base.bit_length() * exponent > MAX_INT_BITS:
        raise SecurityError(f"result would exceed {MAX_INT_BITS} bits")


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) \
            and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise SecurityError(f"result would exceed {MAX_INT_BITS} bits")
    for seq, times in ((left, right), (right, left)):
        sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
        if sized and len(seq) * times > MAX_REPEAT_LEN:
            raise SecurityError(f"result would exceed {MAX_REPEAT_LEN} items")


_ENV = PlaybookEnvironment()


def environment() -> PlaybookEnvironment:
    """The one shared environment (compiled expressions are bound to it)."""
    return _ENV


# --- compiled expressions ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expression:
    """One compiled expression; ``source`` is kept verbatim for reports and tickets."""

    source: str
    _compiled: TemplateExpression = field(repr=False, compare=False)

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """Value of the expression; every failure becomes an :class:`ExpressionError`."""
        return _guarded(lambda: _strict(self._compiled(**context)))

    def is_true(self, context: Mapping[str, Any]) -> bool:
        """Truthiness, computed inside the guard (an undefined result raises here)."""
        return bool(_guarded(lambda: bool(self._compiled(**context))))


def _strict(value: Any) -> Any:
    _require_defined(value)
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_REPEAT_LEN:
        raise ExpressionError(f"the value has {len(value)} items (at most {MAX_REPEAT_LEN})")
    return value


def _check_source(source: str) -> None:
    """Refused at load time: a huge expression, or one chaining ``~`` to multiply a text."""
    if len(source) > MAX_SOURCE_LEN:
        raise ExpressionSyntaxError(f"the expression is {len(source)} characters long "
                                    f"(at most {MAX_SOURCE_LEN})")


def _check_concat(tree: nodes.Node) -> None:
    operands = sum(len(node.nodes) for node in tree.find_all(nodes.Concat))
    if operands > MAX_CONCAT_OPERANDS:
        raise TemplateSyntaxError(f"too many ~ joins in one expression ({operands}; at most "
                                  f"{MAX_CONCAT_OPERANDS}): split it into vars", 1)


def _guarded(call: Callable[[], Any]) -> Any:
    """Turn whatever an expression raises into one readable error, never a traceback."""
    try:
        return call()
    except ExpressionError:
        raise
    except SecurityError as exc:
        raise ExpressionError(f"refused by the sandbox: {exc}") from None
    except Exception as exc:  # any failure of user code is reported, never a traceback
        raise ExpressionError(_describe_exception(exc)) from None


def _describe_exception(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc)
    if name == "UndefinedError":
        hint = " (not a var, a registered result or a helper)" if text.endswith("undefined") else ""
        return text + hint
    return f"{name}: {text}" if text else name


def compile_expression(source: str) -> Expression:
    """Compile once at load time so syntax errors surface before the line is dialled."""
    _check_source(source)
    try:
        compiled = _ENV.compile_expression(source, undefined_to_none=False)
        _check_concat(_ENV.parse(f"{{{{ {source} }}}}"))
    except TemplateSyntaxError as exc:
        raise ExpressionSyntaxError(_syntax_message(source, exc), exc.lineno or 1) from None
    return Expression(source, compiled)


#: Longest text a template may produce: a console line is a few hundred characters, and a
#: rendered value is sent to a PBX, never used as bulk data.
MAX_RENDERED_LEN = 1024


@dataclass(frozen=True, slots=True)
class Template:
    """A text value with ``{{ expression }}`` parts (a command, a setting value, a question).

    Only ``{{ }}`` is allowed: ``{% %}`` statements (loops, includes, imports, macros) are
    refused at load time, so a template can do no more than the bare expressions can.
    """

    source: str
    _compiled: JinjaTemplate = field(repr=False, compare=False)

    def render(self, context: Mapping[str, Any]) -> str:
        """The text; an expression failure or an over-long result is an ExpressionError."""
        try:
            text: str = _guarded(lambda: self._compiled.render(**context))
        except ExpressionError as exc:
            raise ExpressionError(f"{self.source!r}: {exc}") from None
        if len(text) > MAX_RENDERED_LEN:
            raise ExpressionError(f"the rendered text is {len(text)} characters long "
                                  f"(at most {MAX_RENDERED_LEN})")
        return text

    @property
    def is_literal(self) -> bool:
        """No ``{{ }}`` at all: the text can be checked at load time."""
        return "{{" not in self.source and "{#" not in self.source


def compile_template(source: str) -> Template:
    """Compile a text template once, at load time; statements are a syntax error here."""
    _check_source(source)
    try:
        tree = _ENV.parse(source)
        _only_output(tree)
        _check_concat(tree)
        compiled = _ENV.from_string(tree)
    except TemplateSyntaxError as exc:
        message = (exc.message or "syntax error").replace("end of template", "end of text")
        raise ExpressionSyntaxError(message, exc.lineno or 1) from None
    return Template(source, compiled)


def _only_output(tree: nodes.Template) -> None:
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise TemplateSyntaxError(
                "only {{ expressions }} are allowed in playbook text, not {% statements %}",
                node.lineno)


def _syntax_message(source: str, exc: TemplateSyntaxError) -> str:
    message = (exc.message or "syntax error").replace("end of template", "end of expression")
    if "{{" in source or "{%" in source:
        return (f"{message}; conditions (expect, when, until, loop) are bare expressions: "
                "drop the {{ }}")
    if message == "chunk after expression":
        message = "unexpected text after the expression"
        if re.search(r"(?<![=!<>])=(?!=)", source):
            message += "; use == to compare"
    return message


def kind_of(value: Any) -> str:
    """A value's type in playbook (YAML/JSON) words, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, Undefined):
        return "an undefined value"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    for typ, word in names.items():
        if isinstance(value, typ):
            return word
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"
