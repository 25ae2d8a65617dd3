"""Hostile uploads through POST /api/v1/process-definitions: a 422 problem list, or contained at
run time (a 409), never a 500 and never a side effect."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.api.test_definitions_api import (
    DEFINITIONS,
    People,
    assert_problem,
    bundle_files,
    json_of,
    people,
    upload,
)
from tests.api.test_instances_api import INSTANCES
from tests.engine.test_upload_attacks import ATTACKS, CONTAINED, attack_payload, secret_text

__all__ = ["people"]  # the shared fixture, re-exported so pytest finds it here


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_hostile_upload_through_the_api(
    client: FlaskClient,
    people: People,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    markers = tmp_path / "markers"
    markers.mkdir()
    marker = markers / f"{name}.marker"
    expected, element_id = ATTACKS[name]

    response = upload(
        client, people.headers("owner"), [("attack.bpmn", attack_payload(name, marker))]
    )

    assert response.status_code != 500
    if response.status_code == 422:
        body = assert_problem(response, 422, code="invalid-process", secrets=(secret_text(),))
        assert body["problems"]
        for problem in body["problems"]:
            assert problem["message"].strip()
            assert problem["element_id"] or problem["line"] or problem["file"]
        if element_id is not None:
            named = [p for p in body["problems"] if p["element_id"] == element_id]
            assert named
            assert all(isinstance(p["line"], int) for p in named)
        assert json_of(client.get(DEFINITIONS, headers=people.headers("owner"))) == []
    else:
        assert expected == CONTAINED, f"{name} was deployed"
        assert response.status_code == 201
        key = json_of(response)["key"]
        version = json_of(
            client.get(f"{DEFINITIONS}/{key}/versions/1", headers=people.headers("owner"))
        )
        assert secret_text() not in str(version)
        started = client.post(
            INSTANCES, json={"process_key": key, "data": {}}, headers=people.headers("pat")
        )
        body = assert_problem(started, 409, code="process-definition-problem")
        assert "Nothing was saved. Tell a process owner" in body["detail"]
        assert element_id is not None
        assert element_id in body["detail"]
        listing = client.get(INSTANCES, headers=people.headers("pat"))
        assert json_of(listing) == []  # the failed start was rolled back
    assert not marker.exists()
    assert list(markers.iterdir()) == []
    assert secret_text() not in caplog.text


def test_one_hostile_file_spoils_the_bundle(
    client: FlaskClient, people: People, tmp_path: Path
) -> None:
    files = [*bundle_files("basic"), ("attack.bpmn", attack_payload("xxe-file", tmp_path / "m"))]
    body = assert_problem(upload(client, people.headers("owner"), files), 422)
    assert [p["file"] for p in body["problems"]] == ["attack.bpmn"]
    assert json_of(client.get(DEFINITIONS, headers=people.headers("owner"))) == []


def test_hostile_form_file_is_refused(client: FlaskClient, people: People) -> None:
    files = [
        (
            name,
            b'{"type": "object", "$ref": "file:///etc/hostname"}'
            if name.endswith(".json")
            else data,
        )
        for name, data in bundle_files("basic")
    ]
    response = upload(client, people.headers("owner"), files)
    assert response.status_code in (201, 422)
    assert secret_text() not in response.get_data(as_text=True)
