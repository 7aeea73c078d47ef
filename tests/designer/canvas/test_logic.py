"""What the canvas reads off a workflow's logic: conditions, switches, error paths, back edges,
badges, where the run starts and ends (canvas.logic, no scene needed)."""

from __future__ import annotations

from designer.canvas.logic import back_edges, badges, edge_marks, roots_and_leaves, shorten
from engine import open_workflow, parse_workflow
from tests.designer.window_support import WORKFLOWS

CYCLE = """
version: 1
name: cyclic
trigger: [orderPlaced, orderRetried]
steps:
  - id: fetch
    after: [notifyOps]
    service: OrderService
    action: fetch
  - id: charge
    service: PaymentService
    action: charge
    onError: continue
    retry:
      attempts: 3
  - id: refund
    after: [charge]
    if: ${ steps.charge.status == 'failed' }
    service: PaymentService
    action: refund
  - id: ship
    after: [charge]
    if: ${ steps.charge.status == 'succeeded' }
    service: ShippingService
    action: ship
    foreach: ${ input.items }
    maxConcurrency: 3
  - id: pause
    after: [ship]
    wait: 30s
  - id: notifyOps
    after: [pause, refund]
    notify:
      message: done
"""


def cyclic():
    loaded = parse_workflow(CYCLE, "cycle.yaml")
    assert loaded.model is not None, loaded.problems
    return loaded.model


def test_policy_change_shows_a_switch_whose_second_side_is_else():
    wf = open_workflow(str(WORKFLOWS / "policy_change.yaml")).unwrap_model()
    marks = edge_marks(wf)
    assert set(marks) == {("check", "sendUpdate"), ("check", "revertPolicy")}
    yes, no = marks[("check", "sendUpdate")], marks[("check", "revertPolicy")]
    assert (yes.kind, yes.label, yes.branch) == ("branch", "check.status == 'pass'", 0)
    assert (no.kind, no.label, no.branch) == ("branch", "else", 1)
    assert no.full == "${ steps.check.output.status != 'pass' }"  # the hover text is whole


def test_emergency_dispatch_conditions_are_cut_short_with_the_full_text_kept():
    wf = open_workflow(str(WORKFLOWS / "emergency_dispatch.yaml")).unwrap_model()
    marks = edge_marks(wf)
    both = marks[("join", "allDispatched")], marks[("join", "shortfall")]
    assert [m.kind for m in both] == ["branch", "branch"]
    assert [m.branch for m in both] == [0, 1]
    assert all(len(m.label) <= 28 and m.label.endswith("…") for m in both)
    assert both[0].full.startswith("${ steps.fire.status == 'succeeded' &&")


def test_error_path_and_back_edge_of_a_cyclic_file():
    wf = cyclic()
    assert back_edges(wf) == {("notifyOps", "fetch")}
    marks = edge_marks(wf)
    assert marks[("notifyOps", "fetch")].kind == "back"
    # refund tests that charge failed, and charge continues on error: an error path
    assert marks[("charge", "refund")].kind == "error"
    assert marks[("charge", "refund")].label == "on failure: charge.status == 'failed'"
    assert marks[("charge", "ship")].kind == "branch"
    assert ("fetch", "charge") not in marks  # a plain `after`


def test_a_failure_test_without_onerror_continue_is_no_error_path():
    wf = cyclic()
    wf.steps[1].on_error = None  # charge fails the run: refund never sees it fail
    assert edge_marks(wf)[("charge", "refund")].kind == "branch"


def test_badges_say_retry_timeout_foreach_continue_and_wait():
    wf = cyclic()
    by_id = {s.id: s for s in wf.steps}
    assert [(b.icon, b.text) for b in badges(by_id["charge"], wf)] == [
        ("retry", "3"),
        ("continue", "continue"),
    ]
    assert [(b.icon, b.text) for b in badges(by_id["ship"], wf)] == [("foreach", "×3")]
    assert [(b.icon, b.text) for b in badges(by_id["pause"], wf)] == [("clock", "30s")]
    assert badges(by_id["notifyOps"], wf) == []
    policy = open_workflow(str(WORKFLOWS / "policy_change.yaml")).unwrap_model()
    check = policy.step("check")
    assert [(b.icon, b.text) for b in badges(check, policy)] == [
        ("retry", "4"),
        ("clock", "5s"),
        ("continue", "continue"),
    ]
    # the defaults' retry counts: every call of the emergency file retries once
    emergency = open_workflow(str(WORKFLOWS / "emergency_dispatch.yaml")).unwrap_model()
    assert ("retry", "2") in [(b.icon, b.text) for b in badges(emergency.step("join"), emergency)]


def test_roots_and_leaves_and_shorten():
    wf = open_workflow(str(WORKFLOWS / "policy_change.yaml")).unwrap_model()
    assert roots_and_leaves(wf) == (["updatePolicy"], ["adminSuccess", "adminFailure"])
    assert roots_and_leaves(cyclic()) == ([], [])  # every step of the cycle waits for another
    assert shorten("${ steps.a.output.x.y == input.z }") == "a.x.y == input.z"
    assert shorten("${  steps.a.error.message  }") == "a.error.message"
    assert shorten("x" * 40, 10) == "x" * 9 + "…"


def test_a_condition_is_labelled_on_one_edge_into_its_step():
    wf = cyclic()
    wf.step("notifyOps").if_ = "${ steps.pause.status == 'succeeded' }"
    marks = edge_marks(wf)
    into = [marks[(src, "notifyOps")] for src in ("pause", "refund")]
    assert [m.label for m in into] == ["pause.status == 'succeeded'", ""]
    assert all(m.full == "${ steps.pause.status == 'succeeded' }" for m in into)
