#!/usr/bin/env python3
"""A counting TCP relay for benchmarks: accepts on 127.0.0.1:LISTEN, forwards each connection to
127.0.0.1:TARGET, and writes the number of connections accepted so far to COUNTFILE. With
DELAY_MS it emulates a WAN: every chunk is held DELAY_MS milliseconds in each direction, and the
server's side of each connection opens one and a half round trips after the client's, as a TCP
handshake across the same path would (the client's first bytes arrive with it). With WAITLOG, each
connection appends to it one line: the milliseconds from its accept to the client's first bytes
(or "none"), which shows connections opened before their first bytes were ready.
Usage: relay.py LISTEN TARGET COUNTFILE [DELAY_MS [WAITLOG]]"""
import asyncio
import sys
import time

listen, target, countfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
delay = float(sys.argv[4]) / 1000.0 if len(sys.argv) > 4 else 0.0
waitlog = sys.argv[5] if len(sys.argv) > 5 else None
count = 0


async def collect(reader, queue, not_before, accepted=None):
    """Queues what reader gives, each chunk due `delay` after it was read and not before
    `not_before`; the end of the stream last. With `accepted` (the client's side), the wait for
    the first bytes goes to WAITLOG."""
    waited = "none"
    try:
        while data := await reader.read(65536):
            if accepted is not None and waited == "none":
                waited = "%.1f" % ((time.monotonic() - accepted) * 1000.0)
            await queue.put((max(time.monotonic() + delay, not_before), data))
    except (ConnectionError, asyncio.CancelledError):
        pass
    if accepted is not None and waitlog:
        with open(waitlog, "a") as f:
            f.write(waited + "\n")
    await queue.put((max(time.monotonic() + delay, not_before), None))


async def deliver(queue, writer):
    """Writes each queued chunk when it is due, in order, then half-closes."""
    try:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            writer.close()


# The connections' tasks: asyncio's server keeps only a weak hold on them, and a task collected
# while it waits drops its connection without a word.
running = set()


async def handle(client_reader, client_writer):
    task = asyncio.current_task()
    running.add(task)
    try:
        await relay(client_reader, client_writer)
    finally:
        running.discard(task)


async def relay(client_reader, client_writer):
    global count
    count += 1
    with open(countfile, "w") as f:
        f.write(str(count))
    # The server would accept after SYN, SYN-ACK and ACK: one and a half round trips from now,
    # and the client's first bytes, sent with its ACK, arrive then too.
    accepted = time.monotonic()
    established = accepted + 3 * delay
    upstream = asyncio.Queue()
    reading = asyncio.ensure_future(collect(client_reader, upstream, established, accepted))
    await asyncio.sleep(max(0.0, established - time.monotonic()))
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        reading.cancel()
        client_writer.close()
        return
    downstream = asyncio.Queue()
    await asyncio.gather(
        reading,
        deliver(upstream, server_writer),
        collect(server_reader, downstream, 0.0),
        deliver(downstream, client_writer),
        return_exceptions=True,
    )
    client_writer.close()
    server_writer.close()


async def main():
    with open(countfile, "w") as f:
        f.write("0")
    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=512)
    async with server:
        await server.serve_forever()


asyncio.run(main())
