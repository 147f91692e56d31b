"""An SSH server on paramiko, for fipsgate's interop tests.

Usage: paramiko_server.py HOST_KEY_FILE
Listens on 127.0.0.1 (a free port) and first prints one JSON line: the port, the KEXINIT lists
paramiko's own code builds for this configuration (captured before they reach a socket), and the
host key's SHA-256 fingerprint. That line is the tests' ground truth.
"""
import base64
import hashlib
import json
import socket
import sys
import threading

import paramiko


def kexinit_lists(host_key):
    """The name lists of the KEXINIT paramiko sends as a server with this host key."""
    a, b = socket.socketpair()
    t = paramiko.Transport(a)
    t.add_server_key(host_key)
    t.server_mode = True
    sent = []
    t._send_message = sent.append
    t._send_kex_init()
    m = sent[0]
    m.rewind()
    m.get_byte()
    m.get_bytes(16)
    names = ["kex", "host_key", "ciphers_c2s", "ciphers_s2c", "macs_c2s", "macs_s2c",
             "compression_c2s", "compression_s2c"]
    lists = {n: m.get_list() for n in names}
    a.close()
    b.close()
    return lists


class Server(paramiko.ServerInterface):
    pass


def serve(conn, host_key):
    t = paramiko.Transport(conn)
    t.add_server_key(host_key)
    try:
        t.start_server(server=Server())
        t.join(10)
    except Exception:
        pass
    finally:
        t.close()


def main():
    host_key = paramiko.RSAKey(filename=sys.argv[1])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    digest = hashlib.sha256(host_key.asbytes()).digest()
    truth = {
        "port": sock.getsockname()[1],
        "lists": kexinit_lists(host_key),
        "fingerprint": "SHA256:" + base64.b64encode(digest).decode().rstrip("="),
        "version": paramiko.__version__,
    }
    print(json.dumps(truth), flush=True)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve, args=(conn, host_key), daemon=True).start()


if __name__ == "__main__":
    main()
