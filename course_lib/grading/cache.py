"""What the grader keeps on disk between runs, signed so that nothing it did not write is reused.

Reference records and per-notebook results live in the output folder, which no sandbox can see.
Even so, every file is signed with HMAC-SHA256 under a key made for that output folder
(``DIR/.grader-key``, 32 random bytes, readable by the grader's user only) and verified before
it is reused: a file written or edited by anyone without the key is simply computed again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

KEY_FILE = ".grader-key"


def digest(*parts: bytes) -> str:
    """A short content hash of several byte strings (each hashed first, so boundaries count)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def output_key(out: Path) -> bytes:
    """The signing key of the output folder ``out``, made on first use (mode 0600)."""
    path = Path(out) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise RuntimeError(f"{path}: a signing key must be 32 bytes, found {len(key)}; delete it to start afresh")
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def _mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def write_signed(path: Path, key: bytes, data: Any) -> None:
    """Save ``data`` (JSON) with its signature."""
    payload = json.dumps(data, sort_keys=True)
    write_atomic(path, json.dumps({"payload": payload, "mac": _mac(key, payload)}))


def read_signed(path: Path, key: bytes) -> Any | None:
    """The data saved by ``write_signed``, or None when the file is missing, damaged or not ours."""
    try:
        wrapper = json.loads(Path(path).read_text(encoding="utf-8"))
        payload, mac = wrapper["payload"], wrapper["mac"]
        if not (isinstance(payload, str) and isinstance(mac, str) and hmac.compare_digest(mac, _mac(key, payload))):
            return None
        return json.loads(payload)
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
