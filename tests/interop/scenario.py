"""A group of interop clients (possibly on different peers) that checks itself as it goes.

``Group`` keeps every current member's client and leaf, sends each handshake to every
other member, and after every epoch change asserts that all members agree on the epoch,
tree hash, epoch authenticator and MLS-Exporter output (``check``). ``exchange`` has every
member send an application message that every other member must decrypt.
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.interop.driver import PeerClient

EXPORT_LABEL = "burrow interop"


class Group:
    """The members of one group and the epoch they must all be in."""

    def __init__(self, creator: PeerClient, group_id: bytes) -> None:
        info = creator.create_group(group_id)
        assert info["epoch"] == 0 and info["group_id"] == group_id.hex()
        self.group_id = group_id
        self.members: dict[str, PeerClient] = {creator.name: creator}
        self.leaves: dict[str, int] = {creator.name: info["own_leaf"]}
        self.epoch = 0
        self.messages_sent = 0

    def _deliver(self, sender: PeerClient, message: bytes, kind: str) -> None:
        for member in self.members.values():
            if member is sender:
                continue
            result = member.process(message)
            assert result["kind"] == kind, (member, result)
            if kind == "commit":
                assert result["epoch"] == self.epoch, (member, result)

    def add(
        self, adder: PeerClient, newcomers: Sequence[PeerClient], *, tree_ext: bool, public: bool
    ) -> None:
        kps = [n.key_package() for n in newcomers]
        out = adder.add(kps, tree_ext=tree_ext, public=public)
        self.epoch += 1
        assert out["epoch"] == self.epoch
        self._deliver(adder, out["commit"], "commit")
        tree = None if tree_ext else out["ratchet_tree"]
        for newcomer in newcomers:
            info = newcomer.join(out["welcome"], tree)
            assert info["epoch"] == self.epoch and info["group_id"] == self.group_id.hex()
            self.members[newcomer.name] = newcomer
            self.leaves[newcomer.name] = info["own_leaf"]

    def commit(self, committer: PeerClient, *, public: bool) -> None:
        """An empty commit with an UpdatePath."""
        out = committer.commit(public=public)
        self.epoch += 1
        assert out["epoch"] == self.epoch
        self._deliver(committer, out["commit"], "commit")

    def remove(self, remover: PeerClient, removed: PeerClient, *, public: bool) -> None:
        out = remover.remove([self.leaves[removed.name]], public=public)
        self.epoch += 1
        assert out["epoch"] == self.epoch
        del self.members[removed.name], self.leaves[removed.name]
        self._deliver(remover, out["commit"], "commit")

    def exchange(self) -> list[bytes]:
        """Every member sends one message that every other member decrypts; returns them."""
        sent = []
        for sender in list(self.members.values()):
            self.messages_sent += 1
            text = f"#{self.messages_sent} from {sender.name} in epoch {self.epoch}".encode()
            aad = self.messages_sent.to_bytes(2, "big")
            message = sender.encrypt(text, aad)
            for member in self.members.values():
                if member is not sender:
                    result = member.process(message)
                    assert result["kind"] == "application" and result["plaintext"] == text
            sent.append(message)
        return sent

    def check(self) -> None:
        """Everyone agrees on the epoch, tree, epoch authenticator, members and exporter."""
        infos = {name: m.info() for name, m in self.members.items()}
        for name, info in infos.items():
            assert info["epoch"] == self.epoch, (name, info)
            assert info["own_leaf"] == self.leaves[name]
            expected = sorted((leaf, n) for n, leaf in self.leaves.items())
            assert info["members"] == [{"leaf": leaf, "identity": n} for leaf, n in expected]
        for key in ("group_id", "tree_hash", "epoch_authenticator"):
            assert len({info[key] for info in infos.values()}) == 1, (key, infos)
        context = self.epoch.to_bytes(8, "big")
        for length in (32, 77):
            secrets = {m.export(EXPORT_LABEL, context, length) for m in self.members.values()}
            assert len(secrets) == 1 and len(next(iter(secrets))) == length
