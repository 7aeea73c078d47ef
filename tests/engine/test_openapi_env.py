"""An OpenAPI import writes the spec's `servers[0].url` into an environment when asked
(`import-openapi --env`): made when missing, kept otherwise, every other key of the file kept,
what changes said before it is written; a broken file or a spec without a URL stops it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.cli import main
from engine.files.documents import load_environments
from engine.files.environment_edit import environment_names, plan_service_url
from engine.files.folder import environments_file
from tests.engine.test_openapi import PETSTORE

ROOT = Path(__file__).resolve().parents[2]
URL = "http://petstore.swagger.io/v1"


def _import(folder: Path, *extra: str) -> int:
    args = ["import-openapi", str(PETSTORE), "--service", "Petstore", "--into", str(folder)]
    return main([*args, *extra])


def test_env_writes_the_url_into_a_new_environments_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _import(tmp_path, "--env", "live") == 0
    envs = load_environments(tmp_path / "environments.yaml")
    assert envs.environments["live"].services == {"Petstore": URL}
    err = capsys.readouterr().err
    assert "Writes environments.yaml with the environment 'live' (Petstore: " + URL in err
    assert "servers[0]:" not in err  # said as done, not as advice


def test_env_adds_to_an_existing_environment_and_keeps_the_rest(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(ROOT / "workflows" / "environments.yaml", tmp_path)
    before = load_environments(tmp_path / "environments.yaml")
    assert _import(tmp_path, "--env", "local") == 0
    after = load_environments(tmp_path / "environments.yaml")
    assert after.environments["local"].services == {
        **before.environments["local"].services,
        "Petstore": URL,
    }
    assert {k: v for k, v in after.environments.items() if k != "local"} == {
        k: v for k, v in before.environments.items() if k != "local"
    }
    assert after.default == before.default
    assert f"Adds Petstore: {URL} to 'local' of environments.yaml" in capsys.readouterr().err
    # a second import (forced) finds it there: nothing to change
    assert _import(tmp_path, "--env", "local", "--force") == 0
    assert "'local' of environments.yaml already has Petstore" in capsys.readouterr().err


def test_plan_replaces_a_url_and_keeps_comments(tmp_path: Path) -> None:
    (tmp_path / "environments.yaml").write_text(
        "version: 1\n# staging first\nenvironments:\n  staging:\n"
        "    services: {Petstore: 'http://old.example'}  # the old one\n"
    )
    edit = plan_service_url(tmp_path, "staging", "Petstore", URL)
    assert edit.replaced == "http://old.example" and not edit.drops_comments
    assert edit.describe() == (
        f"Sets Petstore: {URL} in 'staging' of environments.yaml (was http://old.example)"
    )
    assert "# staging first\nenvironments:\n" in edit.text
    # the comment stays at its line (and column: it may be aligned with others)
    assert re.search(r"\n    services: +# the old one\n      Petstore: ", edit.text)
    assert environment_names(tmp_path) == ["staging"]
    new = plan_service_url(tmp_path, "prod", "Petstore", URL)
    assert new.new_environment and "Adds the environment 'prod'" in new.describe()
    new.write()
    assert environment_names(tmp_path) == ["staging", "prod"]


def test_a_broken_environments_file_or_no_url_stops_the_import(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    envs = tmp_path / "environments.yaml"
    envs.write_text("version: 1\nenvironments:\n  live:\n    servics: {}\n")
    assert _import(tmp_path, "--env", "live") == 1
    err = capsys.readouterr().err
    assert "environments.yaml:4:5" in err and "servics" in err
    assert not (tmp_path / "Petstore.service.yaml").exists()  # nothing written
    assert environment_names(tmp_path) == []
    envs.unlink()
    no_servers = tmp_path / "bare.openapi.yaml"
    no_servers.write_text(
        PETSTORE.read_text().split("servers:")[0]
        + "paths:"
        + PETSTORE.read_text().split("paths:", 1)[1]
    )
    args = ["import-openapi", str(no_servers), "--service", "Bare", "--into", str(tmp_path)]
    assert main([*args, "--env", "live"]) == 1
    assert "gives no servers[0].url" in capsys.readouterr().err
    assert environments_file(tmp_path) is None
    with pytest.raises(ValueError, match="cannot write the environment"):
        plan_service_url(tmp_path, "live", "Petstore", "not a url")
