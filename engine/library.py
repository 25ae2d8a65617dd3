"""Compile a process bundle: safe parse, XSD validation, semantic validation and lint."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine import jsonsafe
from engine.api import CompiledProcess, TaskInfo
from engine.errors import InvalidProcessError, Problem
from engine.lint import SpecLinter
from engine.xmlsafe import parse_bpmn_bytes

_XSD_LOCK = threading.Lock()
FORM_PROPERTY = "formJsonSchemaFilename"


def content_hash(
    key: str | None, bpmn_files: Mapping[str, bytes], forms: Mapping[str, bytes]
) -> str:
    """Hash a bundle's content so an identical redeploy is a no-op."""
    digest = hashlib.sha256((key or "").encode())
    for kind, files in (("bpmn", bpmn_files), ("form", forms)):
        for name in sorted(files):
            digest.update(f"\0{kind}\0{name}\0".encode())
            digest.update(files[name])
    return digest.hexdigest()


def _element_lines(tree: etree._ElementTree) -> dict[str, int]:
    lines: dict[str, int] = {}
    for element in tree.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        line: object = element.sourceline
        if element_id and isinstance(line, int):
            lines.setdefault(element_id, line)
    return lines


def _located(problems: list[Problem], bpmn_files: Mapping[str, bytes]) -> list[Problem]:
    """The problems with each element's file, line and name filled in where they were not,
    sorted by file and line (problems of the whole bundle first)."""
    where: dict[str, tuple[str, int | None, str | None]] = {}
    for name in sorted(bpmn_files):
        try:
            tree = parse_bpmn_bytes(bpmn_files[name], name)
        except InvalidProcessError:
            continue  # that file's own problem says why
        for element in tree.iter():
            element_id = element.get("id") if isinstance(element.tag, str) else None
            if element_id and element_id not in where:
                source: object = element.sourceline
                line = source if isinstance(source, int) else None
                where[element_id] = (name, line, (element.get("name") or "").strip() or None)
    located = []
    for problem in problems:
        file, line, element_name = where.get(problem.element_id or "", (None, None, None))
        located.append(
            replace(
                problem,
                file=problem.file or file,
                line=problem.line if problem.line is not None else line,
                element_name=problem.element_name or element_name,
            )
        )
    return sorted(located, key=lambda p: (p.file or "", p.line or 0))


def _xsd_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    with _XSD_LOCK:
        VALIDATOR.preprocess(tree)
        if VALIDATOR.validator.validate(tree):
            return []
        errors = list(VALIDATOR.validator.error_log)
    return [
        Problem(None, error.line, f"Not valid BPMN 2.0: {error.message}", filename)
        for error in errors[:50]
    ]


def _validation_problem(exc: ValidationException, lines: Mapping[str, int]) -> Problem:
    element_id = getattr(exc, "id", None) or None
    line = exc.line_number if isinstance(exc.line_number, int) else lines.get(element_id or "")
    message = str(exc).split("\n")[0] or type(exc).__name__
    file_name = getattr(exc, "file_name", None) or None
    return Problem(element_id, line, f"The process is not valid: {message}", file_name)


class BundleCompiler:
    """Turn uploaded files into a CompiledProcess or a list of problems."""

    def __init__(
        self,
        serializer: BpmnWorkflowSerializer,
        workflow_factory: Callable[..., BpmnWorkflow],
        function_names: frozenset[str],
    ) -> None:
        self._serializer = serializer
        self._workflow_factory = workflow_factory
        self._functions = function_names

    def compile(
        self,
        key: str | None,
        bpmn_files: Mapping[str, bytes],
        forms: Mapping[str, bytes],
        known_roles: frozenset[str] | None,
    ) -> CompiledProcess:
        """Parse, validate and lint a bundle; every problem says where it is (file, line and
        the element's name when it has one), in the order they appear."""
        try:
            return self._compile(key, bpmn_files, forms, known_roles)
        except InvalidProcessError as exc:
            raise InvalidProcessError(_located(exc.problems, bpmn_files)) from exc

    def _compile(
        self,
        key: str | None,
        bpmn_files: Mapping[str, bytes],
        forms: Mapping[str, bytes],
        known_roles: frozenset[str] | None,
    ) -> CompiledProcess:
        if not bpmn_files:
            raise InvalidProcessError([Problem(None, None, "The bundle has no BPMN file.")])
        parser = SpiffBpmnParser()
        problems: list[Problem] = []
        lines: dict[str, int] = {}
        file_of: dict[str, str] = {}
        texts: dict[str, str] = {}
        for name in sorted(bpmn_files):
            tree = parse_bpmn_bytes(bpmn_files[name], name)
            file_lines = _element_lines(tree)
            lines.update(file_lines)
            file_of.update({element_id: name for element_id in file_lines})
            problems.extend(_xsd_problems(tree, name))
            texts[name] = bpmn_files[name].decode("utf-8", errors="replace")
            if not problems:
                try:
                    parser.add_bpmn_xml(tree, filename=name)
                except ValidationException as exc:
                    problems.append(_validation_problem(exc, lines))
        if problems:
            raise InvalidProcessError(problems)
        process_key = self._choose_key(parser, key)
        try:
            spec = parser.get_spec(process_key)
            subprocess_specs = parser.get_subprocess_specs(process_key)
        except ValidationException as exc:
            raise InvalidProcessError([_validation_problem(exc, lines)]) from exc
        form_schemas = self._load_forms(forms, problems)
        tasks, names, lanes, params, start_form = self._lint(
            [spec, *subprocess_specs.values()], lines, file_of, known_roles, form_schemas, problems
        )
        if problems:
            raise InvalidProcessError(problems)
        workflow = self._workflow_factory(spec, subprocess_specs)
        full = self._serializer.to_dict(workflow)
        spec_json = json.dumps(
            {"spec": full["spec"], "subprocess_specs": full["subprocess_specs"]}, sort_keys=True
        )
        return CompiledProcess(
            key=process_key,
            content_hash=content_hash(process_key, bpmn_files, forms),
            spec_json=spec_json,
            tasks=tasks,
            element_names=names,
            lanes=tuple(sorted(lanes)),
            forms=form_schemas,
            bpmn=texts,
            start_form=start_form,
            parameters=params,
        )

    @staticmethod
    def _choose_key(parser: SpiffBpmnParser, key: str | None) -> str:
        ids = list(parser.get_process_ids())
        if key is not None:
            if key not in ids:
                message = f"The bundle has no executable process with id {key!r}."
                raise InvalidProcessError([Problem(None, None, message)])
            return key
        if not ids:
            message = 'The bundle has no executable process (isExecutable="true").'
            raise InvalidProcessError([Problem(None, None, message)])
        return str(ids[0])

    @staticmethod
    def _load_forms(forms: Mapping[str, bytes], problems: list[Problem]) -> dict[str, Any]:
        loaded: dict[str, Any] = {}
        for name, raw in forms.items():
            try:
                schema = jsonsafe.loads(raw.decode("utf-8-sig"))
                Draft202012Validator.check_schema(schema)
            except (ValueError, SchemaError) as exc:
                problems.append(
                    Problem(None, None, f"The form {name} is not valid: {_form_reason(exc)}", name)
                )
                continue
            bad = list(jsonsafe.bad_text(schema))
            reason = (
                f"{bad[0]} holds a NUL or an unpaired surrogate, which no text may hold"
                if bad
                else _unresolved_reference(schema)
            )
            if reason:
                problems.append(
                    Problem(None, None, f"The form {name} is not valid: {reason}", name)
                )
                continue
            if not isinstance(schema, dict) or schema.get("type") != "object":
                problems.append(
                    Problem(None, None, f"The form {name} must be an object schema.", name)
                )
                continue
            loaded[name] = schema
        return loaded

    def _lint(
        self,
        specs: list[Any],
        lines: Mapping[str, int],
        file_of: Mapping[str, str],
        known_roles: frozenset[str] | None,
        forms: Mapping[str, Any],
        problems: list[Problem],
    ) -> tuple[dict[str, TaskInfo], dict[str, str], set[str], dict[str, Any], str | None]:
        tasks: dict[str, TaskInfo] = {}
        names: dict[str, str] = {}
        lanes: set[str] = set()
        params: dict[str, Any] = {}
        start_form: str | None = None
        for process_spec in specs:
            for task_spec in process_spec.task_specs.values():
                bpmn_id = getattr(task_spec, "bpmn_id", None)
                if bpmn_id is None:
                    continue
                linter = SpecLinter(self._functions, lines, file_of.get(bpmn_id))
                linter.check_task_spec(task_spec, known_roles)
                names[bpmn_id] = task_spec.bpmn_name or bpmn_id
                if task_spec.manual:
                    info = self._task_info(task_spec, forms, linter)
                    tasks[bpmn_id] = info
                    if info.lane:
                        lanes.add(info.lane)
                elif process_spec is specs[0] and type(task_spec).__name__ == "StartEvent":
                    properties = (getattr(task_spec, "extensions", None) or {}).get("properties")
                    form = (properties or {}).get(FORM_PROPERTY)
                    if form is not None and form not in forms:
                        linter.add(
                            bpmn_id, f"The form {form} is missing from the bundle or is not valid."
                        )
                    start_form = form or start_form
                problems.extend(linter.problems)
                for name, default in linter.params.items():
                    params.setdefault(name, default)
        return tasks, names, lanes, params, start_form

    @staticmethod
    def _task_info(task_spec: Any, forms: Mapping[str, Any], linter: SpecLinter) -> TaskInfo:
        extensions = getattr(task_spec, "extensions", None) or {}
        properties = extensions.get("properties") or {}
        form_key = properties.get(FORM_PROPERTY)
        if form_key is not None and form_key not in forms:
            linter.add(
                task_spec.bpmn_id,
                f"The form {form_key} is missing from the bundle or is not valid.",
            )
        due: int | None = None
        raw_due = properties.get("dueWorkingDays")
        if raw_due is not None and raw_due.strip().isdigit():
            due = int(raw_due)
        return TaskInfo(
            element_id=task_spec.bpmn_id,
            title=task_spec.bpmn_name or task_spec.bpmn_id,
            lane=getattr(task_spec, "lane", None),
            form_key=form_key,
            due_working_days=due,
            instructions=extensions.get("instructionsForEndUser"),
            documentation=getattr(task_spec, "documentation", None),
        )


def _form_reason(exc: ValueError | SchemaError) -> str:
    """Why a form file is not a usable JSON Schema, for the process owner."""
    if isinstance(exc, SchemaError):
        return str(exc.message)
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, jsonsafe.JsonTextError):
        return f"it is not valid JSON: {exc.reason}"
    return "it is not valid JSON"


_REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
_ANCHORS = ("$anchor", "$dynamicAnchor")


def _unresolved_reference(schema: Any) -> str | None:
    """Why a reference in a form cannot be followed, or None when every one can.

    A form may refer only to its own parts (`#/$defs/name`, or `#name` for an `$anchor`):
    one it cannot follow would make every completion of its task fail, leaving cases stuck.
    """
    references: list[str] = []
    anchors: set[str] = set()
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            references += [v for k, v in item.items() if k in _REFERENCES and isinstance(v, str)]
            anchors.update(v for k, v in item.items() if k in _ANCHORS and isinstance(v, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    for reference in references:
        shown = json.dumps(reference[:80])
        if not reference.startswith("#"):
            return f"it refers to {shown}, outside the form; refer only to its own parts"
        fragment = unquote(reference[1:])
        if fragment.startswith("/") or not fragment:
            if not _pointer_exists(schema, fragment):
                return f"it refers to {shown}, which is not in the form"
        elif fragment not in anchors:
            return f"it refers to {shown}, but no part of the form has that anchor"
    return None


def _pointer_exists(document: Any, pointer: str) -> bool:
    target = document
    for token in pointer.split("/")[1:]:
        step = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and step in target:
            target = target[step]
        elif isinstance(target, list) and step.isdigit() and int(step) < len(target):
            target = target[int(step)]
        else:
            return False
    return True
