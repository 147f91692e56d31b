#!/usr/bin/env python3
"""A counting TCP relay for benchmarks: accepts on 127.0.0.1:LISTEN, forwards each connection to
127.0.0.1:TARGET, and writes the number of connections accepted so far to COUNTFILE.
Usage: conncount.py LISTEN TARGET COUNTFILE"""
import asyncio, sys

listen, target, countfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
count = 0

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()

async def handle(client_reader, client_writer):
    global count
    count += 1
    with open(countfile, "w") as f:
        f.write(str(count))
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

async def main():
    with open(countfile, "w") as f:
        f.write("0")
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()

asyncio.run(main())
