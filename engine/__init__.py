"""BPMN engine behind a small interface. Importing this package never imports SpiffWorkflow.

The implementation lives in `engine.spiff`; only the composition root imports it.
"""

from engine.api import (
    Clock,
    CompiledProcess,
    CompletedStep,
    ProcessState,
    ServiceCall,
    TaskInfo,
    UserTask,
    WaitingTimer,
    WorkflowEngine,
)
from engine.errors import (
    EngineError,
    InvalidProcessError,
    Problem,
    ScriptError,
    StateError,
    TaskNotReadyError,
)

__all__ = [
    "Clock",
    "CompiledProcess",
    "CompletedStep",
    "EngineError",
    "InvalidProcessError",
    "Problem",
    "ProcessState",
    "ScriptError",
    "ServiceCall",
    "StateError",
    "TaskInfo",
    "TaskNotReadyError",
    "UserTask",
    "WaitingTimer",
    "WorkflowEngine",
]
