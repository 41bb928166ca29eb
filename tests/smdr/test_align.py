"""The re-read rule: the longest start of a new connection that equals the end of what is
stored is a re-read; everything after it is new, identical or not."""

from __future__ import annotations

from agent.smdr.align import Aligner


def run(tail: list[str], stream: list[str], *, settle: bool = True) -> list[str]:
    aligner: Aligner[str] = Aligner(tail, key=lambda s: s)
    out = [new for item in stream for new in aligner.offer(item)]
    return out + (aligner.settle() if settle else [])


def test_a_full_replay_stores_only_what_came_after() -> None:
    assert run(["a", "b", "c"], ["a", "b", "c", "d", "e"]) == ["d", "e"]


def test_a_replay_from_the_middle_of_the_tail() -> None:
    assert run(["a", "b", "c", "d"], ["c", "d", "x"]) == ["x"]


def test_no_overlap_is_all_new() -> None:
    assert run(["a", "b"], ["x", "y"]) == ["x", "y"]
    assert run([], ["a", "a"]) == ["a", "a"]


def test_identical_records_within_one_stream_are_distinct_calls() -> None:
    assert run(["a", "b"], ["a", "b", "b", "b"]) == ["b", "b"]
    assert run(["x"], ["y", "y", "y"]) == ["y", "y", "y"]


def test_the_longest_overlap_wins() -> None:
    # the stream's "a a" matches the tail's end both as one and as two items: two
    assert run(["a", "a"], ["a", "a", "a"]) == ["a"]


def test_an_undecided_match_waits_and_the_quiet_line_decides() -> None:
    aligner: Aligner[str] = Aligner(["a", "b", "c"], key=lambda s: s)
    assert aligner.offer("a") == []
    assert aligner.offer("b") == []  # could still be the start of a full replay
    assert aligner.settle() == ["a", "b"]  # it was not: the line fell quiet
    assert aligner.offer("c") == ["c"]
