"""Deterministic identities, KeyPackages and events for Marmot tests."""

from __future__ import annotations

from marmot.key_package_event import create_marmot_key_package, key_package_event_data
from mls.key_package import KeyPackageBundle, create_key_package
from mls.messages import Capabilities, Credential, Extension, ExtensionType
from nostr.event import Event
from nostr.keys import SecretKey
from tests.helpers.nostr_factories import NOW, CountingRng, secret

RELAY = "wss://relay.example.com"


def key_package(label: str, *, now: int = NOW, device: str = "") -> KeyPackageBundle:
    """``label``'s KeyPackage; another ``device`` of the same identity gets other keys."""
    return create_marmot_key_package(
        secret(label).public_key(), now=now, rng=CountingRng(label + device)
    )


def legacy_key_package(label: str, *, now: int = NOW) -> KeyPackageBundle:
    """A KeyPackage of a pre-0.8 client: no SelfRemove in its capabilities."""
    caps = Capabilities((1,), (1,), (ExtensionType.LAST_RESORT, 0xF2EE), (), (1,))
    return create_key_package(
        1,
        Credential.basic(secret(label).public_key().data),
        now=now,
        capabilities=caps,
        extensions=(Extension(ExtensionType.LAST_RESORT, b""),),
        rng=CountingRng(label + "-legacy"),
    )


def key_package_event(
    label: str, bundle: KeyPackageBundle | None = None, *, legacy: bool = False
) -> Event:
    """A signed 30443 (or 443) event for ``label``'s KeyPackage."""
    bundle = bundle or key_package(label)
    key: SecretKey = secret(label)
    data = key_package_event_data(bundle.key_package, relays=[RELAY], rng=CountingRng(label))
    return data.unsigned(key.public_key(), NOW, legacy=legacy).sign(key, rng=CountingRng(label))
