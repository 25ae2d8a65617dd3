"""Real-world BPMN written by other tools (the BPMN MIWG reference models): each one deploys or
is refused with a readable problem list; never an unhandled exception or a server error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from engine import InvalidProcessError
from engine.spiff import SpiffEngine
from tests.api.test_definitions_api import upload

# ../shared beside the checkout (as on developer machines and in CI)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bpmn-miwg-reference"
FILES = sorted(CORPUS.glob("*.bpmn"))


def test_the_corpus_is_present() -> None:
    assert len(FILES) >= 20, f"expected the BPMN MIWG reference corpus at {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_diagram_compiles_or_is_refused_readably(engine: SpiffEngine, path: Path) -> None:
    try:
        process = engine.compile(None, {path.name: path.read_bytes()}, {}, None)
    except InvalidProcessError as refused:
        problems = refused.problems
    else:
        assert process.key
        assert process.spec_json
        return
    assert problems
    for problem in problems:
        assert problem.message.strip()
        assert "Traceback" not in problem.message
        assert problem.line is None or problem.line > 0


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_diagram_upload_through_the_api(
    client: FlaskClient, owner_headers: dict[str, str], path: Path
) -> None:
    response = upload(client, owner_headers, [(path.name, path.read_bytes())])

    assert response.status_code in (200, 201, 422), response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert isinstance(body, dict)
    if response.status_code == 422:
        assert response.mimetype == "application/problem+json"
        assert body["code"] == "invalid-process"
        assert body["problems"]
        text = path.read_text(encoding="utf-8", errors="replace")
        for problem in body["problems"]:
            assert set(problem) == {"element_id", "element_name", "line", "file", "message"}
            assert isinstance(problem["message"], str)
            assert problem["message"].strip()
            if problem["element_id"] and f'id="{problem["element_id"]}"' in text:
                # a process owner can find it: the file, the line and (if it has one) its name
                assert (problem["file"], isinstance(problem["line"], int)) == (path.name, True)
                named = re.search(
                    rf'id="{re.escape(problem["element_id"])}"[^>]*?\sname="([^"]+)"', text
                )
                if named and named.group(1).strip():
                    assert problem["element_name"], problem
        where = [(p["file"] or "", p["line"] or 0) for p in body["problems"]]
        assert where == sorted(where)  # in the order they appear
    else:
        assert body["created"] is (response.status_code == 201)
        assert body["version"] >= 1
