"""The pure edits of a workflow model that the designer's undo commands apply."""

from __future__ import annotations


def test_remap_pasted_keeps_outside_edges_only_when_asked() -> None:
    from engine import CallStep, remap_pasted

    steps = [
        CallStep(id="b", service="S", action="b", after=["a"]),
        CallStep(id="c", service="S", action="c", after=["b", "x"]),
    ]
    pasted, _ = remap_pasted(steps, {}, {"a", "b", "c", "x"}, (0.0, 0.0))
    assert [s.after for s in pasted] == [[], ["b_2"]]
    kept, _ = remap_pasted(steps, {}, {"a", "b", "c", "x"}, (0.0, 0.0), keep_after={"a", "x"})
    assert [(s.id, s.after) for s in kept] == [("b_2", ["a"]), ("c_2", ["b_2", "x"])]
