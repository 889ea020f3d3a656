"""Small-cell suppression: primary, secondary, and that nothing hidden can be worked out."""

from hypothesis import given, settings
from hypothesis import strategies as st

from figures.suppression import recoverable_cells, suppress

T = 5


def _shown(cells, suppression):
    return {key: (None if key in suppression.hidden else values) for key, values in cells.items()}


def _feasible_values(answer, total, key):
    """Every value the hidden cell ``key`` can take in a table of counts that
    agrees with the answer: the shown cells, the shown total, hidden cells at
    least 1 (zeros are shown). The hidden cells share what the total leaves,
    each at least 1. Without a total nothing bounds them: None."""
    if total is None:
        return None
    hidden = [k for k, v in answer.items() if v is None]
    assert key in hidden
    rest = total - sum(v[0] for v in answer.values() if v is not None)
    return set(range(1, rest - (len(hidden) - 1) + 1))


def _assert_not_recoverable(answer, total, key):
    values = _feasible_values(answer, total, key)
    assert values is None or len(values) >= 2, (key, answer, total, values)


class TestPrimary:
    def test_it_hides_counts_from_one_to_threshold_minus_one(self):
        """1..4 are hidden, 0 and 5 are shown."""
        cells = {(name,): [n] for name, n in zip("abcdefg", [0, 1, 4, 5, 9, 30, 40], strict=True)}
        result = suppress(cells, [89], threshold=T)
        assert {("b",), ("c",)} <= result.hidden
        assert ("a",) not in result.hidden  # zero stays zero
        assert not result.total_hidden

    def test_it_hides_a_small_total(self):
        """A total of 3 is hidden, and every non-zero cell with it."""
        result = suppress({("a",): [3], ("b",): [0]}, [3], threshold=T)
        assert result.total_hidden and result.hidden == {("a",)}

    def test_a_row_is_hidden_when_any_of_its_counts_is_small(self):
        """Cases 6 but people 3: the row is hidden as a whole."""
        result = suppress({("a",): [6, 3], ("b",): [20, 40], ("c",): [30, 60]}, [56, 103], threshold=T)
        assert ("a",) in result.hidden


class TestSecondary:
    def test_one_hidden_cell_is_not_left_alone_with_the_total(self):
        """3 next to 10 and 20 with a total of 33: 3 would be 33 − 30, so 10 is hidden too."""
        cells = {("a",): [3], ("b",): [10], ("c",): [20]}
        result = suppress(cells, [33], threshold=T)
        assert result.hidden == {("a",), ("b",)}
        assert not result.total_hidden
        assert recoverable_cells(cells, [33], result) == set()

    def test_two_hidden_ones_are_not_enough(self):
        """1 and 1 hidden beside 20 (total 22): both must be 1, so a third cell is hidden."""
        cells = {("a",): [1], ("b",): [1], ("c",): [20], ("d",): [30]}
        result = suppress(cells, [52], threshold=T)
        assert result.hidden == {("a",), ("b",), ("c",)}
        answer = _shown({k: v for k, v in cells.items()}, result)
        assert _feasible_values(answer, 52, ("a",)) == set(range(1, 21))

    def test_it_hides_the_total_when_no_cell_is_left(self):
        """Five categories with one case each, total 5: each hidden cell would be 1."""
        cells = {(name,): [1] for name in "abcde"}
        result = suppress(cells, [5], threshold=T)
        assert result.total_hidden

    def test_two_dimensions_are_protected_against_their_margins(self):
        """Row a is 3 + 7 = 10 and the one-dimension answer shows the 10: 7 is hidden with the 3."""
        cells = {("a", "x"): [3], ("a", "y"): [7], ("b", "x"): [20], ("b", "y"): [30]}
        result = suppress(cells, [60], threshold=T)
        assert ("a", "x") in result.hidden
        assert ("a", "y") in result.hidden  # else 3 = margin of a − 7
        assert ("b", "x") in result.hidden  # else 3 = margin of x − 20
        assert ("b", "y") in result.hidden  # else a cycle-free pattern pins the others
        assert recoverable_cells(cells, [60], result) == set()

    def test_nothing_is_hidden_when_nothing_is_small(self):
        """No small count, no suppression."""
        cells = {("a", "x"): [5], ("a", "y"): [0], ("b", "x"): [20], ("b", "y"): [30]}
        result = suppress(cells, [55], threshold=T)
        assert result.hidden == frozenset() and not result.total_hidden


counts = st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=7)


@settings(max_examples=300, deadline=None)
@given(counts)
def test_no_hidden_cell_can_be_worked_out_in_one_dimension(values):
    """For random small tables, every hidden cell can take at least two values
    in a table that agrees with everything the answer shows (brute force)."""
    cells = {(str(i),): [v] for i, v in enumerate(values)}
    total = sum(values)
    result = suppress(cells, [total], threshold=T)
    answer = _shown(cells, result)
    shown_total = None if result.total_hidden else total
    for key, value in cells.items():
        if value[0] == 0:
            assert key not in result.hidden  # zero stays zero
        elif value[0] < T:
            assert key in result.hidden
        if key in result.hidden:
            _assert_not_recoverable(answer, shown_total, key)
    assert recoverable_cells(cells, [total], result) == set()
    if 0 < total < T:
        assert result.total_hidden


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=9), min_size=2, max_size=3), min_size=2, max_size=3))
def test_no_hidden_cell_can_be_worked_out_in_two_dimensions(grid):
    """Random small two-dimension tables (rows of equal length): no hidden cell is
    pinned by the answer, and none by the margins the one-dimension answers show
    unless a margin itself gives it away (then the cell is at least hidden)."""
    width = min(len(row) for row in grid)
    cells = {(f"r{i}", f"c{j}"): [row[j]] for i, row in enumerate(grid) for j in range(width)}
    total = sum(v[0] for v in cells.values())
    result = suppress(cells, [total], threshold=T)
    answer = _shown(cells, result)
    shown_total = None if result.total_hidden else total
    for key, value in cells.items():
        if value[0] == 0:
            assert key not in result.hidden
        elif value[0] < T:
            assert key in result.hidden
        if key in result.hidden:
            _assert_not_recoverable(answer, shown_total, key)
    assert recoverable_cells(cells, [total], result) == set()
