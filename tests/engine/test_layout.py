"""Auto-layout: layers left to right, no overlaps, few crossings, tolerant of broken graphs."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine import COLUMN_GAP, ROW_GAP, layered_layout, layered_positions
from tests.designer.conftest import small_workflow


def crossings(pos: dict[str, tuple[float, float]], after: dict[str, list[str]]) -> int:
    edges = [(pos[a], pos[v]) for v, ps in after.items() for a in ps]
    n = 0
    for i, (a1, b1) in enumerate(edges):
        for a2, b2 in edges[i + 1 :]:
            if a1[0] == a2[0] and b1[0] == b2[0] and (a1[1] - a2[1]) * (b1[1] - b2[1]) < 0:
                n += 1
    return n


def test_a_chain_is_one_row():
    pos = layered_positions(["a", "b", "c"], {"b": ["a"], "c": ["b"]})
    assert pos == {"a": (0.0, 0.0), "b": (COLUMN_GAP, 0.0), "c": (2 * COLUMN_GAP, 0.0)}


def test_fork_and_join_are_symmetric():
    pos = layered_positions(["a", "b", "c", "d"], {"b": ["a"], "c": ["a"], "d": ["b", "c"]})
    assert pos["b"][0] == pos["c"][0] == COLUMN_GAP
    assert abs(pos["b"][1] - pos["c"][1]) == ROW_GAP
    assert pos["a"][1] == pos["d"][1] == (pos["b"][1] + pos["c"][1]) / 2


def test_a_step_sits_right_of_its_furthest_after():
    pos = layered_positions(["a", "b", "c"], {"b": ["a"], "c": ["a", "b"]})
    assert pos["c"][0] == 2 * COLUMN_GAP


def test_barycentre_sweeps_undo_a_crossing():
    # listed so that the first ordering crosses: a feeds y, b feeds x
    ids = ["a", "b", "x", "y", "p", "q"]
    after = {"x": ["b"], "y": ["a"], "p": ["x"], "q": ["y"]}
    pos = layered_positions(ids, after)
    assert crossings(pos, after) == 0


def test_long_edges_get_room_through_the_layers_between():
    ids = ["s", "a1", "a2", "a3", "t", "u"]
    after = {"a1": ["s"], "a2": ["a1"], "a3": ["a2"], "t": ["a3", "u"], "u": ["s"]}
    pos = layered_positions(ids, after)
    assert pos["t"][0] == 4 * COLUMN_GAP and pos["u"][0] == COLUMN_GAP
    # the long edge u -> t keeps its own row: the chain stays on one side of it
    side = {(pos[f"a{i}"][1] > pos["u"][1]) for i in (1, 2, 3)}
    assert len(side) == 1 and pos["a1"][1] != pos["u"][1]


def test_cycles_and_unknown_ids_do_not_break_it():
    pos = layered_positions(["a", "b", "c"], {"a": ["c", "ghost"], "b": ["a"], "c": ["b"]})
    assert set(pos) == {"a", "b", "c"}
    assert len({p for p in pos.values()}) == 3


def test_layered_layout_reads_the_workflow():
    pos = layered_layout(small_workflow())
    assert pos["fetch"][0] < pos["check"][0] < pos["report"][0]
    assert pos["pause"][0] == 0.0 and pos["pause"] != pos["fetch"]


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]]]:
    n = draw(st.integers(1, 40))
    ids = [f"n{i}" for i in range(n)]
    after = {}
    for i in range(1, n):
        after[ids[i]] = draw(st.lists(st.sampled_from(ids[:i]), max_size=3, unique=True))
    return ids, after


# found by Hypothesis: rows snapped to the grid one by one came out 90 apart
_SNAP_CASE = (
    [f"n{i}" for i in range(14)],
    {
        "n1": [],
        "n2": [],
        "n3": [],
        "n4": [],
        "n5": ["n2", "n3", "n4"],
        "n6": ["n3"],
        "n7": [],
        "n8": ["n2", "n6"],
        "n9": ["n0"],
        "n10": ["n6", "n2", "n3"],
        "n11": [],
        "n12": ["n11", "n8"],
        "n13": ["n11", "n4"],
    },
)


@settings(max_examples=60, deadline=None)
@given(dags())
@example(_SNAP_CASE)
def test_edges_point_right_and_nodes_never_overlap(graph):
    ids, after = graph
    pos = layered_positions(ids, after)
    assert set(pos) == set(ids)
    for v, ps in after.items():
        for p in ps:
            assert pos[p][0] < pos[v][0]
    by_column: dict[float, list[float]] = {}
    for x, y in pos.values():
        by_column.setdefault(x, []).append(y)
    for ys in by_column.values():
        ys.sort()
        assert all(b - a >= ROW_GAP for a, b in zip(ys, ys[1:], strict=False))
    assert layered_positions(ids, after) == pos  # deterministic
