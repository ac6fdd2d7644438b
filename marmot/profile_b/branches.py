"""The retained branches of one group and the convergence pass over them (Profile B).

A member keeps every state it reached or could reach (spec protocol-core/convergence.md,
"Candidate branches"): a tree whose root is the join (or founding) state and whose edges
are commits that validated against exactly their parent. One tip is canonical. Commits
of a competing branch are kept beside it; after new input, :meth:`BranchTree.converge`
runs the deterministic rule (:mod:`marmot.profile_b.convergence`) between the canonical
tip and every other tip and, when another tip wins, moves there and says what that
changes: app payloads delivered only on the losing side are invalidated, those that had
decrypted on the winning side are now delivered, and the winner's commits from the fork
on are replayed.

Mutable by design (a member's retained state changes as input arrives), but pure: no
I/O, no clock. What a node delivered is kept as opaque values of the caller.

::

    tree = BranchTree(joined_state)
    node = tree.node_for(lambda s: try_open(s))     # the state whose key opens a 445
    child = tree.add_commit(parent, new_state, CommitMeta(...))   # adopted if parent is canonical
    tree.record(node, sender_account, delivery)     # an app payload that decrypted there
    outcome = tree.converge()                       # Reorg | None, and the Selection made
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from marmot.profile_b.convergence import (
    POLICY_V1,
    AppWitness,
    BranchCandidate,
    ConvergencePolicy,
    Priority,
    Selection,
    select_branch,
)
from mls.group import GroupState

D = TypeVar("D")
R = TypeVar("R")

__all__ = ["BranchNode", "BranchTree", "CommitMeta", "Pass", "Reorg"]


@dataclass(frozen=True, slots=True)
class CommitMeta:
    """What convergence needs of the commit that made a node: all MLS-authenticated."""

    committer: bytes
    priority: Priority
    digest: bytes  # SHA-256 of the commit's MLSMessage bytes


@dataclass(eq=False)
class BranchNode(Generic[D]):
    """One retained state; ``meta`` is the commit from the parent (None for the root)."""

    state: GroupState
    parent: BranchNode[D] | None
    meta: CommitMeta | None
    witnesses: set[bytes] = field(default_factory=set)  # accounts whose app messages opened here
    deliveries: list[D] = field(default_factory=list)
    children: list[BranchNode[D]] = field(default_factory=list)

    @property
    def epoch(self) -> int:
        return self.state.epoch

    def path(self) -> list[BranchNode[D]]:
        """Root first, this node last."""
        out: list[BranchNode[D]] = []
        node: BranchNode[D] | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def walk(self) -> Iterator[BranchNode[D]]:
        yield self
        for child in self.children:
            yield from child.walk()


def common_ancestor(a: BranchNode[D], b: BranchNode[D]) -> BranchNode[D]:
    seen = {id(n) for n in a.path()}
    for node in reversed(b.path()):
        if id(node) in seen:
            return node
    raise ValueError("the nodes belong to different trees")


@dataclass(frozen=True, slots=True)
class Reorg(Generic[D]):
    """The canonical tip moved from ``old`` to ``new`` across ``fork``."""

    old: BranchNode[D]
    new: BranchNode[D]
    fork: BranchNode[D]
    replayed: tuple[BranchNode[D], ...]  # the winner's nodes after the fork, in order
    invalidated: tuple[D, ...]  # delivered on the losing side only
    delivered: tuple[D, ...]  # decrypted on the winning side, not delivered before


@dataclass(frozen=True, slots=True)
class Pass(Generic[D]):
    """One convergence pass: the decision (None when no branch had a commit to judge)."""

    selection: Selection | None
    reorg: Reorg[D] | None


class BranchTree(Generic[D]):
    def __init__(self, root: GroupState, *, policy: ConvergencePolicy = POLICY_V1) -> None:
        self.root: BranchNode[D] = BranchNode(root, None, None)
        self.canonical: BranchNode[D] = self.root
        self.policy = policy

    def nodes(self) -> Iterator[BranchNode[D]]:
        return self.root.walk()

    def tips(self) -> list[BranchNode[D]]:
        return [n for n in self.nodes() if not n.children]

    def node_for(self, attempt: Callable[[GroupState], R | None]) -> tuple[BranchNode[D], R] | None:
        """The first node, newest epoch first, for which ``attempt(state)`` gives a value
        (e.g. the 445 outer key of that state opens an event)."""
        for node in sorted(self.nodes(), key=lambda n: -n.epoch):
            found = attempt(node.state)
            if found is not None:
                return node, found
        return None

    def has_commit(self, parent: BranchNode[D], digest: bytes) -> bool:
        return any(c.meta is not None and c.meta.digest == digest for c in parent.children)

    def add_commit(
        self, parent: BranchNode[D], state: GroupState, meta: CommitMeta
    ) -> BranchNode[D]:
        """A validated commit's state; it becomes canonical when it extends the tip."""
        child: BranchNode[D] = BranchNode(state, parent, meta)
        parent.children.append(child)
        if parent is self.canonical:
            self.canonical = child
        return child

    def witness(self, node: BranchNode[D], sender: bytes) -> None:
        """``sender`` used the state ``node`` (sent or was received there)."""
        node.witnesses.add(sender)

    def record(self, node: BranchNode[D], sender: bytes, delivery: D) -> bool:
        """An app payload that decrypted at ``node``: a witness for its branch. True when
        it is on the canonical branch (deliver it now)."""
        self.witness(node, sender)
        node.deliveries.append(delivery)
        return any(n is node for n in self.canonical.path())

    def _candidate(self, tip: BranchNode[D], fork: BranchNode[D]) -> BranchCandidate:
        assert tip.meta is not None
        witnesses = tuple(
            AppWitness(n.epoch, s) for n in tip.path() if n.epoch > fork.epoch for s in n.witnesses
        )
        meta = tip.meta
        return BranchCandidate(
            str(id(tip)),
            fork.epoch,
            tip.epoch,
            meta.priority,
            meta.committer,
            meta.digest,
            witnesses,
        )

    def converge(self) -> Pass[D]:
        """The canonical tip against each other tip, pairwise from their common ancestor;
        moves to the winner and reports the move."""
        winner = self.canonical
        selection: Selection | None = None
        for tip in self.tips():
            if tip is winner or tip.meta is None:
                continue
            fork = common_ancestor(tip, winner)
            if fork is winner:
                winner = tip  # the tip extends the canonical branch
                continue
            if winner.meta is None:
                continue
            pair = [self._candidate(winner, fork), self._candidate(tip, fork)]
            selection = select_branch(self.canonical.epoch, pair, self.policy)
            if selection.selected is not None and selection.selected.branch_id == str(id(tip)):
                winner = tip
        if selection is None and winner.meta is not None and winner.parent is not None:
            single = [self._candidate(winner, winner.parent)]
            selection = select_branch(winner.epoch, single, self.policy)
        if winner is self.canonical:
            return Pass(selection, None)
        return Pass(selection, self._move(winner))

    def prune(self) -> int:
        """Forget what no eligible branch can use: the root moves up the canonical path to
        the state ``max_rewind_commits`` epochs below the tip (the retained anchor), and
        branches forking below it go. Returns how many states were dropped."""
        floor = self.canonical.epoch - self.policy.max_rewind_commits
        anchor = next((n for n in self.canonical.path() if n.epoch >= floor), self.canonical)
        if anchor is self.root:
            return 0
        before = sum(1 for _ in self.nodes())
        anchor.parent = None
        self.root = anchor
        return before - sum(1 for _ in self.nodes())

    def _move(self, winner: BranchNode[D]) -> Reorg[D]:
        old = self.canonical
        fork = common_ancestor(winner, old)
        losing = [n for n in old.path() if n.epoch > fork.epoch]
        winning = [n for n in winner.path() if n.epoch > fork.epoch]
        self.canonical = winner
        return Reorg(
            old,
            winner,
            fork,
            tuple(winning),
            tuple(d for n in losing for d in n.deliveries),
            tuple(d for n in winning for d in n.deliveries),
        )
