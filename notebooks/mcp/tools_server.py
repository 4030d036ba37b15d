"""An MCP server for the example notebook (mcp.ipynb): two tools, served over streamable
HTTP on 127.0.0.1:8765 (the URL nbchat.yaml declares). It prints `READY` once it listens.

    python tools_server.py
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from mcp.server.mcpserver import MCPServer

PORT = 8765
server = MCPServer("unit-converter")


@server.tool()
def km_to_miles(km: float) -> str:
    """Convert kilometres to miles."""
    return f"{km * 0.621371:.2f} miles"


@server.tool()
def celsius_to_fahrenheit(celsius: float) -> str:
    """Convert degrees Celsius to Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:.1f} °F"


async def main() -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", PORT))
    sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
    print("READY", flush=True)
    config = uvicorn.Config(server.streamable_http_app(), log_level="warning")
    await uvicorn.Server(config).serve(sockets=[sock])


if __name__ == "__main__":
    asyncio.run(main())
