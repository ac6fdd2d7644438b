"""Members of our own MLS implementation passing messages in memory (architecture §6:
the MLS analogue of h11's ConnectionPair). Deterministic: every member draws from a
seeded ``rng``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from mls.group import (
    GroupConfig,
    GroupState,
    PendingCommit,
    ProcessResult,
    add_members,
    create_group,
    join_from_welcome,
    process,
)
from mls.key_package import KeyPackageBundle, create_key_package, default_capabilities
from mls.messages import Capabilities, Credential, CredentialType, Extension, MLSMessage
from mls.types import Rng

NOW = 1_780_000_000
SELF_REMOVE = 0x000A
MARMOT_DATA = 0xF2EE


def seeded_rng(seed: int) -> Rng:
    return random.Random(seed).randbytes


def capabilities(cs: int) -> Capabilities:
    """Every member supports SelfRemove and the Marmot group-data extension."""
    return default_capabilities(cs, CredentialType.BASIC, (MARMOT_DATA,), (SELF_REMOVE,))


def key_package(name: str, cs: int = 1, *, rng: Rng) -> KeyPackageBundle:
    return create_key_package(
        cs, Credential.basic(name.encode()), now=NOW, capabilities=capabilities(cs), rng=rng
    )


@dataclass
class Members:
    """A group of named members of our implementation, all at the same epoch."""

    states: dict[str, GroupState]
    rng: Rng = field(repr=False)
    config: GroupConfig | None = None

    @classmethod
    def create(
        cls,
        names: Sequence[str],
        cs: int = 1,
        *,
        seed: int = 1,
        extensions: Sequence[Extension] = (),
        config: GroupConfig | None = None,
    ) -> Members:
        rng = seeded_rng(seed)
        creator = create_group(
            cs,
            Credential.basic(names[0].encode()),
            now=NOW,
            capabilities=capabilities(cs),
            extensions=extensions,
            config=config,
            rng=rng,
        )
        group = cls({names[0]: creator}, rng, config)
        if len(names) > 1:
            group.add(names[0], names[1:])
        return group

    def __getitem__(self, name: str) -> GroupState:
        return self.states[name]

    def add(self, committer: str, names: Sequence[str]) -> PendingCommit:
        cs = self.states[committer].cipher_suite
        bundles = [key_package(n, cs, rng=self.rng) for n in names]
        pending = add_members(
            self.states[committer], [b.key_package for b in bundles], now=NOW, rng=self.rng
        )
        self.deliver(committer, pending.message)
        self.states[committer] = pending.next_state
        assert pending.welcome is not None
        for name, bundle in zip(names, bundles, strict=True):
            self.states[name] = join_from_welcome(pending.welcome, bundle, config=self.config)
        return pending

    def deliver(
        self, sender: str, message: MLSMessage, *, skip: Sequence[str] = ()
    ) -> dict[str, ProcessResult]:
        """Every other member processes ``message``; returns their results."""
        results = {}
        for name, state in list(self.states.items()):
            if name == sender or name in skip:
                continue
            results[name], self.states[name] = process(state, message, now=NOW)
        return results

    def apply(self, committer: str, pending: PendingCommit) -> dict[str, ProcessResult]:
        """Deliver our commit, then merge it."""
        results = self.deliver(committer, pending.message)
        self.states[committer] = pending.next_state
        return results

    def agree(self) -> None:
        """Every active member is at the same epoch with the same keys and tree."""
        active = [s for s in self.states.values() if s.active]
        first = active[0]
        for state in active[1:]:
            assert state.epoch == first.epoch
            assert state.epoch_authenticator == first.epoch_authenticator
            assert state.tree_hash == first.tree_hash
            assert state.tree.tree_hash() == state.tree_hash
