"""OpenAPI 3 interop: import-openapi writes a service description (and mocks), the catalog
lists the operations, validate checks call steps and mocks against the Petstore contract."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine.cli import main
from engine.core.model import Workflow
from engine.files.catalog import ServiceCatalog, catalog_for
from engine.files.contracts import path_matches
from engine.files.documents import check_file, load_workflow
from engine.files.openapi import (
    OpenApiSpec,
    call_step_data,
    load_openapi,
    parse_openapi,
    schema_errors,
)
from engine.files.yamlread import read_yaml

ROOT = Path(__file__).resolve().parents[2]
PETSTORE = ROOT / "tests" / "data" / "openapi" / "petstore.openapi.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    shutil.copy(PETSTORE, spec_dir)
    flows = tmp_path / "flows"
    flows.mkdir()
    assert (
        main(
            [
                "import-openapi",
                str(spec_dir / PETSTORE.name),
                "--service",
                "Petstore",
                "--into",
                str(flows),
                "--mocks",
            ]
        )
        == 0
    )
    return flows


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_petstore_operations() -> None:
    spec = load_openapi(PETSTORE)
    assert list(spec.operations) == ["listPets", "createPets", "showPetById"]
    show = spec.operations["showPetById"]
    assert (show.method, show.path, show.summary) == (
        "GET",
        "/pets/{petId}",
        "Info for a specific pet",
    )
    assert [(p.name, p.where, p.required) for p in show.parameters] == [("petId", "path", True)]
    assert spec.operations["createPets"].body_schema == {"$ref": "#/components/schemas/Pet"}


def test_import_openapi_writes_a_valid_service_file_and_mocks(folder: Path) -> None:
    service = folder / "Petstore.service.yaml"
    data, _ = read_yaml(service.read_bytes())
    schema = json.loads((ROOT / "resources" / "schema" / "service.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    assert data == {
        "version": 1,
        "service": "Petstore",
        "openapi": "../specs/petstore.openapi.yaml",
        "baseUrl": "http://petstore.swagger.io/v1",
    }
    assert check_file(service).ok
    mocks = check_file(folder / "Petstore.mocks.yaml")
    assert mocks.ok, mocks.problems
    assert mocks.model.mocks["Petstore.showPetById"][0].body == {
        "id": 1,
        "name": "Rex",
        "tag": "dog",
    }
    # the folder's workflows are not confused with the service description
    assert (
        main(["import-openapi", str(PETSTORE), "--service", "Petstore", "--into", str(folder)]) == 1
    )  # exists


def test_catalog_learns_each_operation(folder: Path) -> None:
    catalog = catalog_for(folder / "x.yaml", Workflow())
    assert catalog.services["Petstore"] == ["listPets", "createPets", "showPetById"]
    op = catalog.operation("Petstore", "showPetById")
    assert op is not None and op.method == "GET" and op.path == "/pets/{petId}"
    # the plain shape still works for its users
    plain = ServiceCatalog()
    plain.add("A", "b")
    assert plain.services == {"A": ["b"]} and plain.operations == {}


_GOOD = """\
    version: 1
    name: pets
    steps:
      - service: Petstore
        action: listPets
        method: GET
        path: /pets
        query: {limit: '2'}
      - service: Petstore
        action: showPetById
        method: GET
        path: /pets/${ steps.listPets.output[0].id }
      - service: Petstore
        action: createPets
        path: /pets
        with: {id: 3, name: Kit}
    """


def test_a_workflow_built_from_the_spec_validates_and_runs_on_its_mocks(folder: Path) -> None:
    wf_path = _write(folder / "pets.yaml", _GOOD)
    loaded = check_file(wf_path)
    assert loaded.ok, loaded.problems
    assert main(["run", str(wf_path), "--mocks", str(folder / "Petstore.mocks.yaml")]) == 0
    assert load_workflow(wf_path).ids == ["listPets", "showPetById", "createPets"]


def test_call_steps_are_checked_against_their_operation(folder: Path) -> None:
    wf_path = _write(
        folder / "bad.yaml",
        """\
        version: 1
        name: bad
        steps:
          - service: Petstore
            action: showPetByI
          - service: Petstore
            action: showPetById
            method: GET
          - service: Petstore
            action: createPets
            path: /pets
            with: {name: 3}
        """,
    )
    problems = [str(p) for p in check_file(wf_path).errors]
    assert any(
        "bad.yaml:5:13: steps[0].action: Petstore has no operation 'showPetByI'" in p
        and "did you mean 'showPetById'" in p
        for p in problems
    )
    assert any("steps[1].action" in p and "petId" in p for p in problems)
    assert any(
        "bad.yaml:12:18: steps[2].with.name" in p and "not of type 'string'" in p for p in problems
    )
    assert any("steps[2].with" in p and "'id' is a required property" in p for p in problems)


def test_a_mock_of_the_wrong_shape_is_reported_with_line_and_column(folder: Path) -> None:
    mocks = _write(
        folder / "wrong.mocks.yaml",
        """\
        version: 1
        mocks:
          Petstore.showPetById:
            status: 200
            body:
              id: seven
              name: Rex
          Petstore.listPets:
            - status: 200
              body: [{id: 1}]
            - status: 418
        """,
    )
    problems = [str(p) for p in check_file(mocks).errors]
    assert any(
        p.startswith(f"{mocks}:6:11: mocks.Petstore.showPetById.body.id:")
        and "'seven' is not of type 'integer'" in p
        for p in problems
    ), problems
    assert any(
        "mocks.Petstore.listPets[0].body[0]" in p and "'name' is a required property" in p
        for p in problems
    ), problems
    assert main(["validate", str(mocks)]) == 1


def test_a_mock_status_the_operation_does_not_declare(tmp_path: Path) -> None:
    _write(
        tmp_path / "tiny.openapi.json",
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "t", "version": "1"},
                "paths": {
                    "/ping": {
                        "get": {
                            "operationId": "ping",
                            "responses": {
                                "200": {
                                    "description": "ok",
                                    "content": {
                                        "application/json": {"schema": {"type": ["string", "null"]}}
                                    },
                                }
                            },
                        }
                    }
                },
            }
        ),
    )
    _write(
        tmp_path / "Tiny.service.yaml", "version: 1\nservice: Tiny\nopenapi: tiny.openapi.json\n"
    )
    mocks = _write(
        tmp_path / "t.mocks.yaml",
        """\
        version: 1
        mocks:
          Tiny.ping:
            - status: 200
              body: pong
            - status: 418
        """,
    )
    problems = [str(p) for p in check_file(mocks).errors]
    assert (
        len(problems) == 1
        and ":6:" in problems[0]
        and "declares no response 418" in problems[0]
        and "mocks.Tiny.ping[1]" in problems[0]
    ), problems


def test_path_templates() -> None:
    assert path_matches("/pets/{petId}", "/pets/${ input.id }")
    assert path_matches("/pets/{petId}", "/pets/7")
    assert not path_matches("/pets/{petId}", "/pets")
    assert not path_matches("/pets", "/listPets")


def test_not_an_openapi_document(tmp_path: Path) -> None:
    bad = _write(tmp_path / "x.yaml", "swagger: '2.0'\n")
    assert main(["import-openapi", str(bad), "--service", "X", "--into", str(tmp_path)]) == 1


def test_a_dropped_operation_makes_a_call_step_that_validates(folder: Path) -> None:
    spec = load_openapi(PETSTORE)
    show = call_step_data("Petstore", spec.operations["showPetById"], spec)
    assert show == {
        "service": "Petstore",
        "action": "showPetById",
        "method": "GET",
        "path": "/pets/${ input.petId }",
    }
    create = call_step_data("Petstore", spec.operations["createPets"], spec)
    assert create["with"] == {"id": 0, "name": ""} and "method" not in create
    wf = {"version": 1, "name": "dropped", "steps": [show, create]}
    path = folder / "dropped.yaml"
    path.write_text(yaml.safe_dump(wf, sort_keys=False), encoding="utf-8")
    assert check_file(path).ok, check_file(path).problems


def test_a_broken_spec_gives_problems_not_tracebacks(tmp_path: Path) -> None:
    spec, _ = parse_openapi(
        json.dumps(
            {
                "openapi": "3.0.0",
                "paths": {
                    "/a": {"get": {"responses": []}, "post": {"operationId": "p", "parameters": 3}}
                },
            }
        )
    )
    assert spec is not None and list(spec.operations) == ["get_a", "p"]
    bare = OpenApiSpec("f", "3.0.0")
    for broken in ({"pattern": "("}, {"type": 5}, {"$ref": "#/nope"}):
        [(where, message)] = schema_errors(bare, broken, "abc")
        assert where == () and "the spec's schema cannot be used" in message
