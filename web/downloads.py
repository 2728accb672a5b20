"""How a download is named: one header for every file the console hands out (attachments, exports)."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(name: str, inline: bool = False) -> str:
    """The Content-Disposition of a download named ``name``: an ASCII fallback for old clients and
    the UTF-8 name (RFC 6266 / 5987) every current browser uses (营业执照.pdf stays 营业执照.pdf)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"
