"""The files beside a workflow that runs use, found through the engine's folder convention."""

from __future__ import annotations

# imported as a module: a name starting with `test` would be collected as a test
from designer.run import environments


def test_tests_file_for_finds_the_workflows_own_tests_file(tmp_path):
    workflow = tmp_path / "flow.yaml"
    workflow.write_text("version: 1\n")
    (tmp_path / "flow_v2.tests.yaml").write_text("version: 1\n")  # another workflow's
    assert environments.tests_file_for(workflow) is None
    (tmp_path / "flow.tests.yml").write_text("version: 1\n")
    assert environments.tests_file_for(workflow) == tmp_path / "flow.tests.yml"
    (tmp_path / "flow.tests.yaml").write_text("version: 1\n")
    # .yaml before .yml, as before
    assert environments.tests_file_for(workflow) == tmp_path / "flow.tests.yaml"
    assert environments.tests_file_for(None) is None
