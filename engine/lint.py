"""Deploy-time lint: every script, condition, timer and task property must compile and fit."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins import ScriptTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent

from engine import jsonsafe
from engine.errors import Problem
from engine.scripts import SERVICE_OPERATORS, compile_expression, compile_script

_PARSERS: dict[type[Any], Callable[[str], Any]] = {
    TimeDateEventDefinition: TimerEventDefinition.get_datetime,
    DurationTimerEventDefinition: TimerEventDefinition.parse_time_or_duration,
    CycleTimerEventDefinition: TimerEventDefinition.parse_iso_recurring_interval,
}
_BARE_ISO = re.compile(r"^(R\d*/)?P[0-9TYMWDHS.,]+$|^\d{4}-\d{2}-\d{2}")
EXPRESSION_PROPERTIES = ("dueWorkingDays", "dueAt", "agency", "assignee")
_NOT_PLAIN = (
    "A param() default must be plain JSON: text, a number, True, False, None, a list [...] or a"
    " dict {...} with text keys (no tuple, set or bytes, no NUL character), so it is stored and"
    " read back unchanged."
)


class SpecLinter:
    """Collect problems in one parsed process spec."""

    def __init__(
        self, functions: frozenset[str], lines: Mapping[str, int], filename: str | None
    ) -> None:
        self.functions = functions
        self.lines = lines
        self.filename = filename
        self.problems: list[Problem] = []
        self.params: dict[str, Any] = {}

    def add(self, element_id: str | None, message: str) -> None:
        """Record a problem against an element."""
        line = self.lines.get(element_id or "")
        self.problems.append(Problem(element_id, line, message, self.filename))

    def check_code(self, element_id: str, source: str, mode: str, what: str) -> bool:
        """Compile code with the restricted compiler; report failures."""
        try:
            ast.parse(source, mode=mode)
        except SyntaxError as exc:
            self.add(element_id, f"The {what} is not valid Python: {exc.msg} (line {exc.lineno}).")
            return False
        try:
            if mode == "eval":
                compile_expression(source)
            else:
                compile_script(source)
        except SyntaxError as exc:
            self.add(element_id, f"The {what} uses something that is not allowed: {exc.msg}")
            return False
        tree = ast.parse(source, mode=mode)
        if any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(tree)):
            self.add(element_id, f"The {what} imports a module; scripts may not import anything.")
            return False
        self._collect_params(element_id, tree)
        return True

    def _collect_params(self, element_id: str, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id != "param":
                continue
            args = node.args
            if (
                not args
                or not isinstance(args[0], ast.Constant)
                or not isinstance(args[0].value, str)
            ):
                self.add(element_id, "param() needs a quoted parameter name.")
                continue
            default = None
            if len(args) > 1:
                try:
                    default = ast.literal_eval(args[1])
                except (ValueError, TypeError):  # a name, a call; {[1]: 2}
                    self.add(element_id, "A param() default must be a plain value.")
                    continue
                if not jsonsafe.is_plain(default):
                    self.add(element_id, _NOT_PLAIN)
                    continue
            self.params.setdefault(args[0].value, default)

    def check_timer(self, element_id: str, definition: TimerEventDefinition) -> None:
        """Check a timer is a quoted ISO literal or a call to a registered function."""
        expression = (definition.expression or "").strip()
        if _BARE_ISO.match(expression):
            self.add(element_id, f'The timer value must be quoted, for example "{expression}".')
            return
        if not self.check_code(element_id, expression, "eval", "timer expression"):
            return
        node = ast.parse(expression, mode="eval").body
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                _PARSERS[type(definition)](node.value)
            except Exception:  # Spiff raises a bare Exception for a bad duration
                self.add(element_id, f"The timer value {node.value!r} is not valid ISO 8601.")
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id not in self.functions:
                self.add(element_id, f"The timer calls {node.func.id}(), which is not available.")
            return
        if isinstance(node, ast.Name):
            return  # a date computed earlier into task data
        self.add(
            element_id,
            "A timer must be a quoted ISO 8601 value, a variable, or a call such as "
            "working_days(5).",
        )

    def check_task_spec(self, task_spec: Any, known_roles: frozenset[str] | None) -> None:
        """Check every piece of code and configuration on one task spec."""
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if bpmn_id is None:
            return
        if isinstance(task_spec, ScriptTaskMixin):
            self.check_code(bpmn_id, task_spec.script or "", "exec", "script")
        for attr, what in (("prescript", "pre-script"), ("postscript", "post-script")):
            script = getattr(task_spec, attr, None)
            if script:
                self.check_code(bpmn_id, script, "exec", what)
        for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
            if condition is not None:
                self.check_code(bpmn_id, condition.args[0], "eval", "gateway condition")
        if isinstance(task_spec, CatchingEvent):
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                self.check_timer(bpmn_id, definition)
        extensions = getattr(task_spec, "extensions", None) or {}
        operator = extensions.get("serviceTaskOperator")
        if operator:
            if operator.get("name") not in SERVICE_OPERATORS:
                self.add(bpmn_id, f"The service task operator {operator.get('name')!r} is unknown.")
            for param in (operator.get("parameters") or {}).values():
                self.check_code(bpmn_id, param.get("value", ""), "eval", "service parameter")
        properties = extensions.get("properties") or {}
        for name in EXPRESSION_PROPERTIES:
            if name in properties:
                self.check_code(bpmn_id, properties[name], "eval", f"{name} property")
        if known_roles is not None and task_spec.manual:
            lane = getattr(task_spec, "lane", None)
            if lane is None:
                self.add(bpmn_id, "The user task is not in a lane, so nobody would see it.")
            elif lane not in known_roles:
                self.add(bpmn_id, f"The lane {lane!r} is not a known role.")
