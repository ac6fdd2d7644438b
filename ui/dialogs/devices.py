"""Your devices: this one, and the other installs of your key seen in key packages and groups;
remove a lost one."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.dialogs.base import Dialog
from ui.models.people import DeviceListModel
from ui.models.roles import ItemRole
from ui.session import Session
from ui.views import DeviceRow
from ui.widgets.common import item_list, label
from ui.widgets.confirm import confirm


class DevicesDialog(Dialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, "Devices", parent)
        self.setObjectName("DevicesDialog")
        self.model = DeviceListModel(self)
        self.view = item_list("DeviceList", self.model)
        self.view.setMinimumHeight(200)
        note = (
            "Each computer or phone with your key is a device with its own keys in every group. "
            "Remove one you lost: it leaves the groups where you are an admin."
        )
        self.column.addWidget(label(note, "muted", wrap=True))
        self.column.addWidget(self.view, 1)
        self.remove = self.add_button("Remove device", "danger")
        self.add_close()
        self.finish_layout()
        self.view.selectionModel().currentChanged.connect(self._update)
        self.remove.clicked.connect(self._remove)
        self._update()
        self.launch(self.reload())

    async def reload(self) -> None:
        self.model.set_rows(await self.backend.list_devices())
        self._update()

    def selected(self) -> DeviceRow | None:
        row = self.view.currentIndex().data(ItemRole.ROW)
        return row if isinstance(row, DeviceRow) else None

    def _update(self) -> None:
        device = self.selected()
        self.remove.setEnabled(device is not None and not device.current)

    def _remove(self) -> None:
        device = self.selected()
        if device is None:
            return

        async def remove() -> None:
            with self.working(f"Removing “{device.label}” from your groups…", self.remove):
                await self.backend.remove_device(device.id)
            await self.reload()

        confirm(
            self,
            f"Remove “{device.label}”?",
            "It will be removed from your groups and can no longer read new messages.",
            "Remove",
            lambda: self.launch(remove()),
        )
