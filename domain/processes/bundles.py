"""Read a process bundle (BPMN plus the forms it names) from folders on disk or from uploads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from domain import errors

MAX_FILES = 50
"""The most files one uploaded bundle may hold."""

_FORM_REF = re.compile(rb'name="formJsonSchemaFilename"\s+value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Bundle:
    """The files of one process version."""

    key: str
    bpmn: dict[str, bytes]
    forms: dict[str, bytes]


def referenced_forms(bpmn: bytes) -> list[str]:
    """Return the form file names a BPMN document names, in order of first use."""
    seen: dict[str, None] = {}
    for match in _FORM_REF.finditer(bpmn):
        seen.setdefault(match.group(1).decode(), None)
    return list(seen)


def bundle_from_file(bpmn_path: Path, forms_dir: Path) -> Bundle:
    """Build the bundle for one BPMN file (key = file name) with the forms it references."""
    data = bpmn_path.read_bytes()
    forms: dict[str, bytes] = {}
    for name in referenced_forms(data):
        candidate = forms_dir / Path(name).name
        if candidate.is_file():
            forms[name] = candidate.read_bytes()
    return Bundle(key=bpmn_path.stem, bpmn={bpmn_path.name: data}, forms=forms)


def bundles_from_folder(folder: Path, forms_dir: Path | None = None) -> list[Bundle]:
    """Build a bundle for every BPMN file in a folder; forms come from `forms_dir`."""
    forms = forms_dir or folder.parent / "forms"
    return [bundle_from_file(path, forms) for path in sorted(folder.glob("*.bpmn"))]


def check_file_count(count: int) -> None:
    """Refuse an upload of no files or of more than MAX_FILES, before any is read."""
    if not count:
        raise errors.ValidationFailedError(
            "Upload the BPMN and form files as multipart field 'files'.",
            [{"pointer": "#/files", "detail": "At least one .bpmn file is required."}],
        )
    if count > MAX_FILES:
        raise errors.ValidationFailedError(
            "Too many files.", [{"pointer": "#/files", "detail": f"At most {MAX_FILES} files."}]
        )


def sort_uploads(files: Sequence[tuple[str, bytes]]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Sort uploaded (file name, content) pairs into a bundle's BPMN files and forms.

    Raises:
        ValidationFailedError: no file or no BPMN file, too many, two with one name (a diagram
            names a form by its file name alone), or a file that is neither BPMN nor JSON.
    """
    check_file_count(len(files))
    bpmn: dict[str, bytes] = {}
    forms: dict[str, bytes] = {}
    for path, data in files:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        if name in bpmn or name in forms:
            raise errors.ValidationFailedError(
                "Two files have the same name.",
                [{"pointer": "#/files", "detail": f"More than one file is named {name[:200]}."}],
            )
        if name.lower().endswith((".bpmn", ".xml")):
            bpmn[name] = data
        elif name.lower().endswith(".json"):
            forms[name] = data
        else:
            raise errors.ValidationFailedError(
                "Unsupported file type.",
                [{"pointer": "#/files", "detail": "Only .bpmn and .json files can be uploaded."}],
            )
    if not bpmn:
        raise errors.ValidationFailedError(
            "The bundle has no BPMN file.", [{"pointer": "#/files", "detail": "Add a .bpmn file."}]
        )
    return bpmn, forms
