"""The documents service's pure rules: what a file is by its first bytes,
what name it may be shown under, and how much room a client has left."""
from __future__ import annotations

import secrets
import unicodedata

MIB = 1024 * 1024
NAME_MAX = 120

PDF, JPEG, PNG, HEIC = "application/pdf", "image/jpeg", "image/png", "image/heic"
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
HEIF_BRANDS = {b"mif1", b"msf1"}   # plain HEIF: allowed only when it lists an HEVC brand
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", HEIC: ".heic"}

NOT_ALLOWED = "This file is not a PDF, JPEG, PNG or HEIC picture."
EMPTY = "This file is empty."
NO_ROOM = "There is no room left for more uploads; call the clinic."
NO_NAME = "This file's name cannot be used; rename it and choose it again."
UNREADABLE = "This file could not be read; choose it again."


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def sniff(data: bytes) -> str | None:
    """The content type the first bytes prove, among the allowed ones; None
    for anything else (whatever its name or the browser claimed)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[4:8] == b"ftyp":
        major = data[8:12]
        if major in HEIC_BRANDS:
            return HEIC
        if major in HEIF_BRANDS:
            # an HEIF container: HEIC only when its ftyp box lists an HEVC
            # brand beside mif1/msf1; any other HEIF (AVIF, JPEG-in-HEIF...) is refused
            size = int.from_bytes(data[0:4], "big")
            compatible = {data[i:i + 4] for i in range(16, min(size, len(data), 64) - 3, 4)}
            return HEIC if compatible & HEIC_BRANDS else None
    return None


def too_large_message(max_bytes: int) -> str:
    """ "This file is larger than 10 MB." (the limit as people count it)."""
    if max_bytes >= MIB:
        return f"This file is larger than {round(max_bytes / MIB, 1):g} MB."
    return f"This file is larger than {max(1, max_bytes // 1024)} KB."


def clean_filename(raw, max_len: int = NAME_MAX) -> str | None:
    """The name a file is shown under: its last path part (a browser or a
    trick may send "C:\\x\\a.pdf" or "../../a.pdf"), without control or
    direction-changing characters, trimmed, at most `max_len` characters
    (the extension kept). None when nothing usable is left."""
    if not isinstance(raw, str):
        return None
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co",
                                                                          "Zl", "Zp"))
    name = " ".join(name.split())            # runs of spaces and tabs -> one space
    name = name.strip(" .")                  # no hidden files, no "..", no trailing dots
    if not name:
        return None
    if len(name) > max_len:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10 and stem:
            name = stem[:max_len - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:max_len].rstrip(" .")
    return name or None


def fits_quota(used: int, size: int, quota: int) -> bool:
    return used + size <= quota
