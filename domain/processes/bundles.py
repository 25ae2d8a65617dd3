"""Read a process bundle (BPMN plus the forms it names) from folders on disk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
