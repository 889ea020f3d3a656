"""Small-cell suppression: the one rule behind every figure Puente publishes
(the statistics API, the situation report, the admin dashboard).

A table is a set of cells keyed by zero, one or two dimension values, each
cell holding one or more counts that share a pattern (a case count and a
people count, say), plus the total of the whole table.

1. Primary: a cell, or the total, with any count from 1 to threshold − 1 is
   hidden. Zero is shown: it identifies nobody.
2. Secondary: no hidden count may be recoverable from what is shown. The
   reader knows every shown cell, the total (when shown), that the cells add
   up to it, and that a hidden cell is at least 1 (zeros are always shown).
   A hidden count is recoverable exactly when no other table that agrees with
   all of that has a different value in that cell. Another such table exists
   exactly when the hidden cell lies on a cycle of hidden cells along which
   one can add and subtract 1 alternately, keeping every sum and every cell
   at 1 or more (the conformal decomposition of the difference of two
   tables), which is a reachability question on a small graph.
   While a hidden cell is recoverable, the smallest non-zero shown cell of
   its line is hidden too; when no cell is left, the total is.

For two dimensions the check runs twice. First against the table with its
margins — the one-dimension answers for the same filters publish them — so
that an answer grouped by two dimensions does not give away, by
subtraction from another answer, what it hides (best effort: a margin that
a one-dimension answer shows cannot be hidden from here). Then against
what the answer itself shows (the cells and the total), which is always
achieved. docs/api/statistics.md explains the method with examples.

3. Rounding: every count shown is rounded down to a multiple of the
   threshold (``rounded``): 0 stays 0, 5 to 9 are shown as 5. Suppression
   protects one answer; rounding protects answers against each other. Any
   count a caller can derive from two answers (a difference or a sum of two
   published counts) then has at least two possible values, so no pair of
   answers gives away a small count (total of all − total of the open ones
   was the closed ones exactly). That needs a threshold of 4 or more: each
   published value then stands for at least 3 counts, and no run of them
   spans exactly threshold − 2 (docs/api/statistics.md gives the argument).
"""
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

Key = tuple


@dataclass(frozen=True)
class Suppression:
    hidden: frozenset  # keys of the hidden cells
    total_hidden: bool


def is_small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def rounded(count: int, threshold: int) -> int:
    """A count that suppression left shown, as it is published: rounded down
    to a multiple of ``threshold`` (0 stays 0; a small count is never shown)."""
    if is_small(count, threshold):
        raise ValueError("a small count is hidden, not rounded")
    count = int(count)
    return count - count % threshold


def _row_is_small(values: Sequence[int], threshold: int) -> bool:
    return any(is_small(value, threshold) for value in values)


def _is_zero(values: Sequence[int]) -> bool:
    return not any(values)


@dataclass
class _Edge:
    """One variable of the table: a cell, a margin or the total, joining the
    two lines (graph nodes) it is summed in. ``sign`` is −1 for a margin,
    which sits on the other side of its line's equation."""

    key: Hashable
    row: Hashable
    column: Hashable
    sign: int
    values: Sequence[int]
    hidden: bool


def _can_move(edge: _Edge, measure: int, step: int) -> bool:
    """The cell may change by ``step`` (in equation terms) and stay at 1 or more."""
    return edge.sign * step > 0 or edge.values[measure] >= 2


def _recoverable(edges: list[_Edge], measures: int, known_safe=frozenset()) -> list[_Edge]:
    """Hidden cells that lie on no cycle along which every count can move.
    Hiding more only adds to the graph, so a cell once safe stays safe:
    ``known_safe`` ones are not searched again."""
    hidden = [index for index, edge in enumerate(edges) if edge.hidden]
    cells = [index for index in hidden if edges[index].key is not None and edges[index].key not in known_safe]
    protected = {index: [False] * measures for index in cells}
    for measure in range(measures):
        for step in (1, -1):
            # Row → column edges carry ``step``, column → row edges ``-step``.
            neighbours: dict[Hashable, list] = {}
            for index in hidden:
                edge = edges[index]
                if _can_move(edge, measure, step):
                    neighbours.setdefault(("r", edge.row), []).append((("c", edge.column), index))
                if _can_move(edge, measure, -step):
                    neighbours.setdefault(("c", edge.column), []).append((("r", edge.row), index))
            for start in cells:
                edge = edges[start]
                if protected[start][measure] or not _can_move(edge, measure, step):
                    continue
                protected[start][measure] = _reaches(neighbours, ("c", edge.column), ("r", edge.row), start)
    return [edges[index] for index in cells if not all(protected[index])]


def _reaches(neighbours, origin, goal, without) -> bool:
    seen, queue = {origin}, deque([origin])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for following, index in neighbours.get(node, ()):
            if index != without and following not in seen:
                seen.add(following)
                queue.append(following)
    return False


_TOTAL = object()


def _flat_model(cells, hidden, total, total_hidden) -> list[_Edge]:
    """What one answer shows: every cell and the total on one line."""
    edges = [_Edge(key, "line", "all", 1, values, key in hidden) for key, values in cells.items()]
    edges.append(_Edge(None, "line", "all", -1, total, total_hidden))
    return edges


def _margin_model(cells, hidden, total, total_hidden, threshold) -> list[_Edge]:
    """A two-dimension table with its margins, as the one-dimension answers show them."""
    width = len(total)
    rows: dict = {}
    columns: dict = {}
    for (row, column), values in cells.items():
        rows[row] = [a + b for a, b in zip(rows.get(row, [0] * width), values, strict=True)]
        columns[column] = [a + b for a, b in zip(columns.get(column, [0] * width), values, strict=True)]
    edges = [_Edge(key, key[0], key[1], 1, values, key in hidden) for key, values in cells.items()]
    edges += [_Edge(None, row, _TOTAL, -1, values, _row_is_small(values, threshold)) for row, values in rows.items()]
    edges += [_Edge(None, _TOTAL, column, -1, values, _row_is_small(values, threshold))
              for column, values in columns.items()]
    edges.append(_Edge(None, _TOTAL, _TOTAL, 1, list(total), total_hidden))
    return edges


def _smallest_shown(cells, hidden, keys) -> Key | None:
    shown = [key for key in keys if key not in hidden and not _is_zero(cells[key])]
    return min(shown, key=lambda key: (list(cells[key]), str(key)), default=None)


def suppress(cells: Mapping[Key, Sequence[int]], total: Sequence[int], *, threshold: int) -> Suppression:
    """Which cells (and whether the total) to hide. ``cells`` maps keys of
    one or two dimension values to counts; ``total`` has the same counts for
    the whole table."""
    cells = {key: list(values) for key, values in cells.items()}
    total = list(total)
    hidden = {key for key, values in cells.items() if _row_is_small(values, threshold)}
    total_hidden = _row_is_small(total, threshold)
    measures = len(total)

    if cells and len(next(iter(cells))) == 2:
        stuck: set = set()
        safe: set = set()
        while True:
            edges = _margin_model(cells, hidden, total, total_hidden, threshold)
            open_cells = [edge.key for edge in _recoverable(edges, measures, safe | stuck)]
            safe |= hidden - set(open_cells) - stuck
            if not open_cells:
                break
            # One more hidden cell beside each open one per pass, then check again.
            for key in open_cells:
                in_lines = [other for other in cells if other[0] == key[0] or other[1] == key[1]]
                extra = _smallest_shown(cells, hidden, in_lines)
                if extra is None:
                    stuck.add(key)
                else:
                    hidden.add(extra)

    safe = set()
    while True:
        open_cells = _recoverable(_flat_model(cells, hidden, total, total_hidden), measures, safe)
        if not open_cells:
            break
        safe |= hidden - {edge.key for edge in open_cells}
        extra = _smallest_shown(cells, hidden, cells)
        if extra is not None:
            hidden.add(extra)
        elif not total_hidden:
            total_hidden = True
        else:  # pragma: no cover - with the total hidden nothing constrains the cells
            break
    return Suppression(hidden=frozenset(hidden), total_hidden=total_hidden)


def recoverable_cells(cells: Mapping[Key, Sequence[int]], total: Sequence[int], suppression: Suppression) -> set:
    """The hidden cells a reader of the answer alone could work out (for tests and reviews)."""
    edges = _flat_model({key: list(v) for key, v in cells.items()}, suppression.hidden, list(total),
                        suppression.total_hidden)
    return {edge.key for edge in _recoverable(edges, len(total))}
