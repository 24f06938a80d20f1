"""A form posted with asyncio's streams instead of aiohttp's client: a new connection a request
(``Connection: close``), as a webhook from Twilio comes, at a fraction of aiohttp's CPU."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """(the answer's status, its body)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
        lines += ["Connection: close", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
        writer.write("\r\n".join(lines).encode("latin-1") + body)
        status = int((await reader.readline()).split()[1])
        length = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await (reader.read() if length is None else reader.readexactly(length))
    finally:
        writer.close()
