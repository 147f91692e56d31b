"""An SSH server on AsyncSSH, for fipsgate's interop tests.

Usage: asyncssh_server.py HOST_KEY_FILE
Listens on 127.0.0.1 (a free port) and first prints one JSON line: the port, the KEXINIT name
lists AsyncSSH's own code builds for this configuration (captured from its own connection to
itself and decoded with its own packet reader), and the host key's SHA-256 fingerprint. That line
is the tests' ground truth.
"""
import asyncio
import json
import sys

import asyncssh
from asyncssh.packet import SSHPacket

NAMES = ["kex", "host_key", "ciphers_c2s", "ciphers_s2c", "macs_c2s", "macs_s2c",
         "compression_c2s", "compression_s2c"]
kexinit = {}
captured = asyncio.Event()
send_kexinit = asyncssh.connection.SSHConnection._send_kexinit


def capture(self):
    """Lets AsyncSSH build and send its KEXINIT, and keeps the first server one."""
    send_kexinit(self)
    if self.is_server() and not kexinit:
        packet = SSHPacket(self._server_kexinit[1:])
        packet.get_bytes(16)
        for name in NAMES:
            kexinit[name] = [n.decode() for n in packet.get_namelist()]
        captured.set()


asyncssh.connection.SSHConnection._send_kexinit = capture


async def main():
    key = asyncssh.read_private_key(sys.argv[1])
    server = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key])
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"SSH-2.0-ground-truth\r\n")
    await asyncio.wait_for(captured.wait(), 10)
    writer.close()
    print(json.dumps({
        "port": port,
        "lists": kexinit,
        "fingerprint": key.get_fingerprint("sha256"),
        "version": asyncssh.__version__,
    }), flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
