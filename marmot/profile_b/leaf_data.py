"""What a Profile B leaf says about itself in its ``app_data_dictionary``."""

from __future__ import annotations

from marmot.profile_b.errors import InvalidKeyPackage
from mls.app_data import app_data_dictionary, components_list
from mls.errors import MlsError
from mls.messages import ComponentID, LeafNode

__all__ = ["advertised_app_components"]


def advertised_app_components(leaf: LeafNode) -> frozenset[int]:
    """The ids in the leaf's ``app_components`` entry (empty when there is none)."""
    try:
        dictionary = app_data_dictionary(leaf.extensions)
        data = None if dictionary is None else dictionary.get(ComponentID.APP_COMPONENTS)
        return frozenset() if data is None else frozenset(components_list(data).component_ids)
    except MlsError as exc:
        raise InvalidKeyPackage(f"leaf app data: {exc}") from None
