"""YAML comments survive load -> edit -> save: each stays at its key or list item, a step's move
with it (renamed, reordered, deleted), and `#` inside values is never taken for one."""

from __future__ import annotations

import copy
import difflib
import random
import textwrap

from engine.core.edits import rename_patches
from engine.core.model import CallStep, Workflow
from engine.files.comments import find_comments
from engine.files.documents import (
    dump_environments,
    dump_mocks,
    dump_workflow,
    parse_environments,
    parse_mocks,
    parse_workflow,
)
from engine.files.yamlwrite import dump_data

COMMENTED = textwrap.dedent(
    """\
    # Policy change: apply a suggested change, check it, tell the admins.
    # Owner: platform team.

    version: 1
    name: policyChange   # stable: the server routes by it
    trigger: policyChangeSuggested
    steps:
      # first the change itself
      - service: PolicyService
        action: updatePolicy
        timeout: 10s   # the service is slow on Mondays
      - id: check
        service: ComplianceService
        action: runCheck
        with:
          policyId: ${ input.policyId }
          # strict: true   (not yet supported)

      # tell the admins, whatever the check said
      - id: admins
        after: [updatePolicy, check]
        notify:
          message: 'Policy ${ input.policyId }: ${ steps.check.output.status }'
    layout:
      updatePolicy: [0, 0]   # left
      check: [240, 0]
      admins: [480, 0]
    # end of file
    """
)


def _load(text: str) -> Workflow:
    loaded = parse_workflow(text, "w.yaml")
    assert loaded.ok, loaded.problems
    assert loaded.model is not None
    return loaded.model


def _changed(old: str, new: str) -> list[str]:
    """The lines a diff from `old` to `new` removes (-) and adds (+)."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(old.splitlines(True), new.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _rename(wf: Workflow, old: str, new: str) -> None:
    """What the designer's rename does to the model: the id, its references, its layout key."""
    patches = rename_patches(wf, old, new)
    wf.step(old).id = new
    for owner, field, _, value in patches:
        if owner is None:
            setattr(wf, field, value)
        else:
            setattr(wf.step(new if owner == old else owner), field, value)
    wf.layout = {(new if k == old else k): v for k, v in wf.layout.items()}


def test_a_canonical_commented_file_reads_and_writes_back_the_same() -> None:
    wf = _load(COMMENTED)
    assert dump_workflow(wf) == COMMENTED
    assert dump_workflow(_load(dump_workflow(wf))) == COMMENTED


def test_comments_keep_their_places_when_the_rest_is_made_canonical() -> None:
    text = textwrap.dedent(
        """\
        # header
        name: w   # the name
        version: 1
        steps:
        # before a
        - {service: S, action: a, timeout: 1500ms}  # a's line
        - id: b
          wait: 90s
          # end of b
        # trailer
        """
    )
    assert dump_workflow(_load(text)) == textwrap.dedent(
        """\
        # header
        version: 1
        name: w   # the name
        steps:
          # before a
          - service: S                              # a's line
            action: a
            timeout: 1500ms
          - id: b
            wait: 90s
            # end of b
        # trailer
        """
    )


def test_renaming_a_step_keeps_its_comments_and_changes_only_its_lines() -> None:
    wf = _load(COMMENTED)
    _rename(wf, "check", "compliance")
    new = dump_workflow(wf)
    assert sorted(_changed(COMMENTED, new)) == sorted(
        [
            "-  - id: check",
            "+  - id: compliance",
            "-    after: [updatePolicy, check]",
            "-      message: 'Policy ${ input.policyId }: ${ steps.check.output.status }'",
            "+    after: [updatePolicy, compliance]",
            "+      message: 'Policy ${ input.policyId }: ${ steps.compliance.output.status }'",
            "-  check: [240, 0]",
            "+  compliance: [240, 0]",
        ]
    )
    assert "      # strict: true   (not yet supported)\n" in new


def test_renaming_the_first_step_moves_its_comments_with_it() -> None:
    wf = _load(COMMENTED)
    _rename(wf, "updatePolicy", "apply")
    new = dump_workflow(wf)
    assert "  # first the change itself\n  - id: apply\n    service: PolicyService\n" in new
    assert "  apply: [0, 0]          # left\n" in new  # at its column: it may align with others
    assert "    timeout: 10s   # the service is slow on Mondays\n" in new


def test_adding_a_step_adds_only_its_lines() -> None:
    wf = _load(COMMENTED)
    step = CallStep(id="audit", service="AuditService", action="record", after=["check"])
    wf.steps.insert(2, step)
    wf.layout["audit"] = (240, 120)
    assert _changed(COMMENTED, dump_workflow(wf)) == [
        "+  - id: audit",
        "+    service: AuditService",
        "+    action: record",
        "+  audit: [240, 120]",
    ]


def test_deleting_a_step_takes_its_comments_and_leaves_the_others() -> None:
    wf = _load(COMMENTED)
    wf.steps = [s for s in wf.steps if s.id != "admins"]
    del wf.layout["admins"]
    new = dump_workflow(wf)
    assert "whatever the check said" not in new
    assert _changed(COMMENTED, new) == [
        "-",
        "-  # tell the admins, whatever the check said",
        "-  - id: admins",
        "-    after: [updatePolicy, check]",
        "-    notify:",
        "-      message: 'Policy ${ input.policyId }: ${ steps.check.output.status }'",
        "-  admins: [480, 0]",
    ]
    wf = _load(COMMENTED)
    first = wf.steps.pop(0)
    del wf.layout[first.id]
    for s in wf.steps:
        s.after = [a for a in s.after if a != first.id]
    new = dump_workflow(wf)
    assert "first the change itself" not in new and "# left" not in new
    assert new.startswith("# Policy change: apply") and new.endswith("# end of file\n")


def test_reordered_steps_take_their_comments_along() -> None:
    wf = _load(COMMENTED)
    wf.steps.reverse()  # their `after` lists are resolved, so the graph stays the same
    new = dump_workflow(wf)
    assert new.index("# tell the admins") < new.index("- id: admins") < new.index("- id: check")
    assert new.index("# first the change itself") < new.index("service: PolicyService")
    assert "  # first the change itself\n  - after: []\n    service: PolicyService\n" in new
    assert "steps:\n  # tell the admins" in new  # no blank line opens the list


def test_a_deleted_key_takes_its_comment_and_copies_carry_theirs() -> None:
    wf = _load(COMMENTED)
    step = wf.step("updatePolicy")
    assert isinstance(step, CallStep)
    step.timeout = None
    assert "slow on Mondays" not in dump_workflow(wf)
    copied = copy.deepcopy(wf.step("check"))
    copied.after = []
    pasted = _load(dump_workflow(Workflow(name="w", steps=[copied])))
    assert "      # strict: true   (not yet supported)\n" in dump_workflow(pasted)


def test_comments_of_keys_the_writer_leaves_out_move_to_the_nearest_line() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: w
        steps:
          - service: S
            # the id is the default one
            id: a
            action: a
          - notify:
              message: hi
              level: info   # the default
              # nothing after the level
        """
    )
    new = dump_workflow(_load(text))
    assert new == textwrap.dedent(
        """\
        version: 1
        name: w
        steps:
          - service: S
            # the id is the default one
            action: a
          - notify:         # the default
              message: hi
            # nothing after the level
        """
    )
    assert dump_workflow(_load(new)) == new


def test_hash_inside_values_is_never_a_comment() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: w
        description: "a # b"
        steps:
          - service: S
            action: a
            path: /x#y
            with:
              url: http://x/#frag
              single: 'it''s # not'
              double: "q \\" # not"
              block: |
                # a line of text
                more # text
              folded: >-
                folded # text
              flow: [a, 'b # c', "d #e"]
              key#1: value
              "#hash": 1
              multi: "first
                # second line of the string"
        """
    )
    assert find_comments(text) == []
    wf = _load(text)
    step = wf.steps[0]
    assert isinstance(step, CallStep)
    assert step.with_["block"] == "# a line of text\nmore # text\n"
    assert step.with_["multi"] == "first # second line of the string"
    assert wf.comments == {} and step.comments == {}
    assert _load(dump_workflow(wf)) == wf


def test_a_block_scalars_header_comment_and_a_keep_block_before_a_comment() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: w
        steps:
          - notify:
              message: |+  # kept as written
                two lines

              # after the message
              level: warning
        """
    )
    wf = _load(text)
    assert [f.text for f in find_comments(text)] == ["# kept as written", "# after the message"]
    out = dump_workflow(wf)
    again = _load(out)
    assert again == wf and again.steps[0].message == "two lines\n\n"  # type: ignore[union-attr]
    assert "|+  # kept as written\n" in out and "      # after the message\n" in out


def test_mocks_and_environments_files_keep_their_comments() -> None:
    mocks = textwrap.dedent(
        """\
        # canned answers for the demo
        version: 1
        mocks:
          # the policy service always agrees
          PolicyService.updatePolicy: {status: 200}   # fast
          ComplianceService.runCheck:
            - fault: timeout   # first call
            - status: 200
        """
    )
    loaded = parse_mocks(mocks, "m.mocks.yaml")
    assert loaded.model is not None
    out = dump_mocks(loaded.model)
    for line in ("# canned answers", "  # the policy service", "# fast", "  - fault: timeout"):
        assert line in out
    assert "    - fault: timeout   # first call\n" in out
    assert dump_mocks(parse_mocks(out).unwrap()) == out
    envs = "version: 1\nenvironments:\n  # the one CI uses\n  mock: {mocks: m.mocks.yaml}\n"
    env = parse_environments(envs, "environments.yaml").unwrap()
    assert dump_environments(env) == (
        "version: 1\nenvironments:\n  # the one CI uses\n  mock:\n    mocks: m.mocks.yaml\n"
    )
    assert "#" not in dump_environments(env, comments=False)


def _random_value(rng: random.Random, depth: int) -> object:
    texts = ["a # b", "#x", "x#", "http://h/#f", "' #", '" #', "a\n# b\n", "# c\n\n", "plain", ""]
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return rng.choice([*texts, 1, 2.5, True, None])
    if roll < 0.75:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    return {
        rng.choice(["k", "#k", "k #", "a b", "x"]) + str(i): _random_value(rng, depth + 1)
        for i in range(rng.randint(1, 3))
    }


def test_fuzz_values_holding_hashes_and_comments_added_at_random_lines() -> None:
    """Random `with` values full of `#` are written canonically, comments are put at random
    line ends and between lines; reading back finds exactly those comments and the same
    values, and a second write gives the same text."""
    rng = random.Random(7)
    for round_ in range(400):
        data = {"k" + str(i): _random_value(rng, 0) for i in range(rng.randint(1, 4))}
        base = (
            "version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n    with:\n"
            + textwrap.indent(dump_data(data), "      ")
        )
        lines = base.splitlines()
        ours: list[str] = []
        out: list[str] = []
        in_block, block_indent = False, 0
        for line in lines:
            # a line of a `|` block is text (its indentation is deeper than its key's)
            starts_block = line.rstrip().endswith(("|", "|-", "|+"))
            body_line = in_block and (not line.strip() or line.startswith(" " * block_indent))
            if not body_line:
                in_block = False
            if not body_line and rng.random() < 0.3:
                text = f"# c{round_}-{len(ours)} #x"
                ours.append(text)
                out.append(" " * (len(line) - len(line.lstrip())) + text)
            if not body_line and not starts_block and rng.random() < 0.3 and line.strip():
                text = f"# t{round_}-{len(ours)}"
                ours.append(text)
                line = f"{line}  {text}"
            out.append(line)
            if starts_block:
                in_block, block_indent = True, len(line) - len(line.lstrip()) + 1
        text = "\n".join(out) + "\n"
        assert [f.text for f in find_comments(text)] == ours, text
        wf = _load(text)
        step = wf.steps[0]
        assert isinstance(step, CallStep)
        assert step.with_ == data, text
        written = dump_workflow(wf)
        assert sorted(f.text for f in find_comments(written)) == sorted(ours), (text, written)
        again = _load(written)
        assert again == wf and dump_workflow(again) == written, (text, written)


def test_fuzz_comments_at_any_column_and_step_edits_settle_after_one_write() -> None:
    """Comments at random columns between random lines of a workflow, then steps renamed,
    deleted and reordered: the first write keeps every comment whose step stays, and writing
    what it wrote again gives the same text (the places chosen are stable)."""
    rng = random.Random(11)
    base = dump_workflow(_load(COMMENTED))
    for round_ in range(300):
        lines = base.splitlines()
        out: list[str] = []
        for i, line in enumerate(lines):
            if i and rng.random() < 0.25:
                out.append(" " * rng.randint(0, 8) + f"# c{round_}-{i}")
            if rng.random() < 0.1:
                out.append("")
            out.append(line + (f"  # t{round_}-{i}" if rng.random() < 0.2 else ""))
        text = "\n".join(out) + "\n"
        wf = _load(text)
        assert len(find_comments(dump_workflow(wf))) == len(find_comments(text)), text
        edit = rng.choice(["none", "rename", "delete", "reverse"])
        if edit == "rename":
            _rename(wf, rng.choice(wf.ids), "renamed")
        elif edit == "delete":
            gone = wf.steps.pop(rng.randrange(len(wf.steps)))
            wf.layout.pop(gone.id, None)
            for s in wf.steps:
                s.after = [a for a in s.after if a != gone.id]
        elif edit == "reverse":
            wf.steps.reverse()
        written = dump_workflow(wf)
        again = parse_workflow(written).model  # a deleted step may leave a dangling reference
        assert again == wf, (text, written)
        assert dump_workflow(again) == written, (text, written)


def test_a_step_that_does_not_parse_takes_its_comments_and_leaves_the_others_in_place() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: w
        steps:
          - id: a   # first
            wait: 1s
          # not a step at all
          - nonsense: true
          # the last one
          - id: c
            wait: 2s   # two
        """
    )
    wf = parse_workflow(text).model
    assert wf is not None and wf.ids == ["a", "c"]
    assert wf.steps[1].comments[()].before == ["# the last one"]
    assert wf.steps[1].comments[("wait",)].trailing == "# two"
    assert "not a step" not in dump_workflow(wf)
