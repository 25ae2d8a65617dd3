"""Restricted script environment: every BPMN script and expression runs here.

No imports, no dunder access, no files, no network. Functions that BPMN expressions may
call come from one registry, built by `build_functions`.

RestrictedPython bounds neither time nor memory, so two more limits apply to every run: a
step budget (`STEP_LIMIT` lines of BPMN code per script or expression, loops and
comprehensions included) stops an endless loop, and `*`, `**` and `<<` are computed by
`_arith_`, which refuses a result too large to hold (`'a' * 10**10`, `9**9**9`, `1 << 10**10`)
before computing it. Either is a script error: the request gets a 409 naming the element,
the timer worker records an incident, and nothing is saved.
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from types import CodeType, MappingProxyType, ModuleType
from typing import Any, NoReturn

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)

from engine.api import Clock
from engine.workdays import WorkingCalendar

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "|=": operator.ior,
    "&=": operator.iand,
}
_SAFE_NAMES = (
    "dict", "list", "set", "sum", "min", "max", "any", "all", "enumerate",
    "sorted", "reversed", "map", "filter", "zip",
)  # fmt: skip
_BUILTINS: dict[str, Any] = dict(safe_builtins)
_BUILTINS.update(limited_builtins)
_BUILTINS.update({name: getattr(builtins, name) for name in _SAFE_NAMES})
_MAX_REPEAT = 100_000  # items a `*` repetition may make
_MAX_EXPONENT = 64  # for an int power, and bits for a shift
STEP_LIMIT = 200_000  # lines of BPMN code one script or expression may run
SOURCE_NAME = "<bpmn>"  # the file name BPMN code is compiled under (the step budget's mark)


class ScriptLimitError(RuntimeError):
    """BPMN code went past a limit: too many steps, or a result too large to compute."""


def _sized(value: Any) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _arith_(op: str, left: Any, right: Any) -> Any:
    """`left op right` for `*`, `**` and `<<`, refusing a result too large to hold."""
    if op == "Mult":
        for seq, times in ((left, right), (right, left)):
            if _sized(seq) and isinstance(times, int) and len(seq) * times > _MAX_REPEAT:
                raise ScriptLimitError(f"a repetition may make at most {_MAX_REPEAT:,} items")
        return left * right
    if op == "Pow":
        if isinstance(left, int) and isinstance(right, int) and abs(right) > _MAX_EXPONENT:
            raise ScriptLimitError(f"an integer power may be at most {_MAX_EXPONENT}")
        return left**right
    if isinstance(right, int) and right > _MAX_EXPONENT:  # LShift
        raise ScriptLimitError(f"a shift may be at most {_MAX_EXPONENT} bits")
    return left << right


_GUARDED_OPS = {ast.Mult: "Mult", ast.Pow: "Pow", ast.LShift: "LShift"}
_GUARDED_INPLACE = {"*=": "Mult", "**=": "Pow", "<<=": "LShift"}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, with `*`, `**` and `<<` computed by `_arith_`."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802 - ast.NodeTransformer names
        """Route a guarded operator through `_arith_`; leave the others as they are."""
        node = self.node_contents_visit(node)
        name = _GUARDED_OPS.get(type(node.op))
        if name is None:
            return node
        call = ast.Call(
            func=ast.Name("_arith_", ast.Load()),
            args=[ast.Constant(name), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))


def _inplace(op: str, x: Any, y: Any) -> Any:
    if op in _GUARDED_INPLACE:
        return _arith_(_GUARDED_INPLACE[op], x, y)
    return _INPLACE[op](x, y)


@contextmanager
def step_budget(limit: int = STEP_LIMIT) -> Iterator[None]:
    """Stop BPMN code (and only it) after `limit` lines, in this thread.

    A trace function sees each new frame; it counts lines in frames of BPMN code alone, so
    the registry's functions and the engine cost nothing. Raising from it ends the run.
    """
    steps = 0

    def count(frame: Any, event: str, _arg: Any) -> Any:
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > limit:
                raise ScriptLimitError(f"the code ran more than {limit:,} steps (an endless loop?)")
        return count

    def on_call(frame: Any, _event: str, _arg: Any) -> Any:
        return count if frame.f_code.co_filename == SOURCE_NAME else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(previous)


_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplace,
    "_arith_": _arith_,
    "_print_": None,
}


def _raise(errors: Sequence[str]) -> NoReturn:
    err = SyntaxError("; ".join(errors))
    found = re.match(r"Line (\d+):", errors[0])
    err.lineno = int(found.group(1)) if found else 0
    raise err


@lru_cache(maxsize=4096)
def compile_expression(expression: str) -> CodeType:
    """Compile an expression under the restrictions; raise SyntaxError when refused."""
    result = compile_restricted_eval(expression, filename=SOURCE_NAME, policy=_Policy)
    if result.errors or result.code is None:
        _raise(result.errors or ["the code could not be compiled"])
    return result.code


@lru_cache(maxsize=4096)
def compile_script(script: str) -> CodeType:
    """Compile a script under the restrictions; raise SyntaxError when refused."""
    result = compile_restricted_exec(script, filename=SOURCE_NAME, policy=_Policy)
    if result.errors or result.code is None:
        _raise(result.errors or ["the code could not be compiled"])
    return result.code


@dataclass
class ServiceOutbox:
    """Service-task requests collected during one engine operation."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


_OUTBOX: ContextVar[ServiceOutbox | None] = ContextVar("engine_outbox", default=None)
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
_PROCESS_PARAMS: ContextVar[Mapping[str, Any]] = ContextVar("engine_params", default=_NO_PARAMS)
SERVICE_OPERATORS = frozenset({"notify", "start_process"})


@contextmanager
def operation_scope(params: Mapping[str, Any]) -> Iterator[ServiceOutbox]:
    """Collect service calls and expose process parameters for one engine operation."""
    outbox = ServiceOutbox()
    token_outbox = _OUTBOX.set(outbox)
    token_params = _PROCESS_PARAMS.set(params)
    try:
        yield outbox
    finally:
        _OUTBOX.reset(token_outbox)
        _PROCESS_PARAMS.reset(token_params)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluate and execute BPMN code with RestrictedPython and a whitelist of functions."""

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Evaluate one expression against task data."""
        scope = dict(_GUARDS)
        scope.update(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        code = compile_expression(expression)
        with step_budget():
            return eval(code, scope)  # noqa: S307 - restricted code

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Run one script against task data, copying plain data back."""
        external = dict(external_context or {})
        clash = (set(self.globals) | set(external)) & set(context)
        if clash:
            raise ValueError(
                "task data overwrites predefined functions: " + ", ".join(sorted(clash))
            )
        scope = dict(_GUARDS)
        scope.update(self.globals)
        scope.update(external)
        scope.update(context)
        code = compile_script(script)
        with step_budget():
            exec(code, scope)  # noqa: S102 - restricted code
        for key in list(context):
            if key not in scope:
                del context[key]
        for key, value in scope.items():
            if key in _GUARDS or key in self.globals or key in external or key.startswith("_"):
                continue
            if callable(value) or isinstance(value, ModuleType):
                continue
            context[key] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        """Queue a service-task request for the application; scripts never do I/O."""
        name = kwargs.get("operation_name")
        if name not in SERVICE_OPERATORS:
            raise ValueError(f"unknown service operator {name!r}")
        params = {k: v["value"] for k, v in (kwargs.get("operation_params") or {}).items()}
        outbox = _OUTBOX.get()
        if outbox is not None:
            outbox.calls.append((str(name), str(kwargs.get("element_id", "")), params))
        return '{"queued": true}'


def _parse_instant(value: str | datetime | date | None, clock: Clock) -> datetime:
    if value is None:
        return clock()
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, date):
        instant = datetime(value.year, value.month, value.day, 12, tzinfo=UTC)
    else:
        instant = datetime.fromisoformat(str(value))
    if instant.tzinfo is None:
        raise ValueError("a start instant needs a UTC offset")
    return instant


def build_functions(
    calendar: Callable[[], WorkingCalendar], clock: Clock
) -> dict[str, Callable[..., Any]]:
    """Build the registry of functions BPMN expressions may call."""

    def working_days(n: int, start: str | None = None) -> str:
        """ISO deadline: close of the nth working day after start (day 0)."""
        return calendar().add_working_days(_parse_instant(start, clock), int(n)).isoformat()

    def working_hours(n: float, start: str | None = None) -> str:
        """ISO instant n working hours after start."""
        return calendar().add_working_hours(_parse_instant(start, clock), float(n)).isoformat()

    def calendar_days(n: int, start: str | None = None) -> str:
        """ISO deadline: close of the day n calendar days after start."""
        return calendar().add_calendar_days(_parse_instant(start, clock), int(n)).isoformat()

    def calendar_days_by(n: int, start: str | None = None) -> str:
        """ISO deadline: close of the last working day on or before the day n calendar days
        after start (a statutory "within" never moves past its date)."""
        return calendar().add_calendar_days_by(_parse_instant(start, clock), int(n)).isoformat()

    def now() -> str:
        """The current instant as ISO 8601 with offset."""
        return clock().astimezone(UTC).isoformat()

    def today() -> str:
        """Today's date in UK local time, ISO 8601."""
        return calendar().local_date(clock()).isoformat()

    def param(name: str, default: Any = None) -> Any:
        """A process-owner parameter of this process (changeable without code)."""
        return _PROCESS_PARAMS.get().get(name, default)

    def is_past(instant: str) -> bool:
        """Whether an ISO instant is in the past."""
        return _parse_instant(instant, clock) <= clock()

    return {
        "working_days": working_days,
        "working_hours": working_hours,
        "calendar_days": calendar_days,
        "calendar_days_by": calendar_days_by,
        "now": now,
        "today": today,
        "param": param,
        "is_past": is_past,
    }


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Script engine over the restricted environment; service calls name their element."""

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Pass the calling element's id along with the service request."""
        return self.environment.call_service(task.data, element_id=task.task_spec.bpmn_id, **kwargs)


def safe_script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    """Build the script engine every workflow uses."""
    return SafeScriptEngine(environment=RestrictedEnvironment(dict(functions)))
