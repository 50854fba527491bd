"""How the store keeps bytes small, and reads them back.

    texts      zstd (level 3) with a dictionary trained on real privacy policies, shipped in
               the package (monitor/data/zstd/policies.dict, rebuilt by
               tools/train_dictionary.py): a quarter of the text's size on policies the
               dictionary never saw, where zlib took a third
    snapshots  zstd; the raw page of a new version with that version's own text as a
               raw-content dictionary (`basis`), so that what the page repeats of its text
               (nearly all of it) costs nothing twice: what is stored is mostly the markup

Blobs written by older Policy Monitors are zlib streams; they are told apart by zstd's frame
magic and read as before, so no migration rewrites old data.
"""

from __future__ import annotations

import threading
import zlib
from importlib import resources
from typing import Any

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LEVEL = 3

_local = threading.local()  # zstandard's (de)compressors are not to be shared between threads


def dictionary() -> Any:
    """The shipped policy dictionary, loaded once a process (forked crawls share it)."""
    import zstandard

    shared = getattr(dictionary, "loaded", None)
    if shared is None:
        data = (resources.files("monitor") / "data" / "zstd" / "policies.dict").read_bytes()
        shared = dictionary.loaded = zstandard.ZstdCompressionDict(data)  # type: ignore[attr-defined]
    return shared


def _codecs() -> tuple[Any, Any, Any]:
    codecs = getattr(_local, "codecs", None)
    if codecs is None:
        import zstandard

        codecs = _local.codecs = (
            zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary()),
            zstandard.ZstdDecompressor(dict_data=dictionary()),
            zstandard.ZstdCompressor(level=LEVEL))
    return codecs


def pack(text: str) -> bytes:
    """A version's text, compressed."""
    return _codecs()[0].compress(text.encode("utf-8"))


def unpack(blob: bytes) -> str:
    return unpack_bytes(blob).decode("utf-8")


def pack_bytes(body: bytes, basis: bytes | None = None) -> bytes:
    """Raw bytes, compressed; against `basis` (bytes they repeat) when given."""
    if not basis:
        return _codecs()[2].compress(body)
    import zstandard

    raw = zstandard.ZstdCompressionDict(basis, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=raw).compress(body)


def unpack_bytes(blob: bytes, basis: bytes | None = None) -> bytes:
    """What `pack`/`pack_bytes` (or an older zlib store) wrote; `basis` as it was packed with."""
    if not blob.startswith(ZSTD_MAGIC):
        return zlib.decompress(blob)
    if basis:
        import zstandard

        raw = zstandard.ZstdCompressionDict(basis, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=raw).decompress(blob)
    return _codecs()[1].decompress(blob)
