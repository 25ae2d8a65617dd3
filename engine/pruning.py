"""Keep a long-running case's state bounded: finished loop iterations are dropped.

The application keeps each completed task in its own rows and audit trail, so a finished
iteration's tasks (and any subprocess they ran) carry nothing the instance still needs.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import StandardLoopTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


def _subtree(task: Any) -> list[Any]:
    out, stack = [], [task]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.children)
    return out


def prune_finished_iterations(workflow: BpmnWorkflow) -> int:
    """Drop the task subtrees of finished loop iterations so long-running loops keep state bounded.

    A standard loop merges each iteration's data into the loop task when the iteration
    ends, so the finished iteration's tasks carry nothing the instance still needs; the
    application keeps the history in its own task rows and audit trail.
    """
    removed = 0
    for owner in [workflow, *list(workflow.subprocesses.values())]:
        for loop_task in list(owner.get_tasks(state=TaskState.STARTED)):
            if not isinstance(loop_task.task_spec, StandardLoopTask):
                continue
            merged = loop_task.internal_data.get("merged", [])
            merged_ids = set(merged)
            for child in list(loop_task.children):
                if str(child.id) not in merged_ids:
                    continue
                tasks = _subtree(child)
                if not all(t.has_state(TaskState.FINISHED_MASK) for t in tasks):
                    continue
                for task in tasks:
                    _drop_subprocess(workflow, task.id)
                    owner.tasks.pop(task.id, None)
                loop_task._children.remove(child.id)
                removed += 1
            # keep the iteration count (used for loopMaximum) without keeping ids
            loop_task.internal_data["merged"] = ["" for _ in merged]
    _drop_orphan_subprocesses(workflow)
    return removed


def _drop_subprocess(workflow: BpmnWorkflow, task_id: Any) -> None:
    """Forget a subprocess and every subprocess nested in it (their tasks go with them)."""
    subprocess = workflow.subprocesses.pop(task_id, None)
    if subprocess is None:
        return
    for other_id in list(workflow.subprocesses):
        if other_id in subprocess.tasks:
            _drop_subprocess(workflow, other_id)


def _drop_orphan_subprocesses(workflow: BpmnWorkflow) -> None:
    """Forget subprocesses whose calling task is gone (left behind by cancelled branches)."""
    for task_id in list(workflow.subprocesses):
        owners = [workflow, *workflow.subprocesses.values()]
        if all(task_id not in owner.tasks for owner in owners):
            _drop_subprocess(workflow, task_id)
