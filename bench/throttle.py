#!/usr/bin/env python3
"""A TCP proxy that carries at most RATE bytes per second each way, all
connections together, as one network link would: for bench/registry.sh,
a registry as far away as a real one is. Usage:
  throttle.py LISTEN_PORT TARGET_PORT RATE_MBIT
Listens on 127.0.0.1:LISTEN_PORT, connects to 127.0.0.1:TARGET_PORT."""
import asyncio
import sys
import time

listen, target, mbit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
RATE = mbit * 1e6 / 8
CHUNK = 64 << 10


class Bucket:
    """a token bucket of RATE bytes/s with a burst of 4 chunks"""

    def __init__(self):
        self.tokens = 0.0
        self.t = time.monotonic()

    async def take(self, n):
        while True:
            now = time.monotonic()
            self.tokens = min(4 * CHUNK, self.tokens + (now - self.t) * RATE)
            self.t = now
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep((n - self.tokens) / RATE)


up, down = Bucket(), Bucket()


async def pipe(r, w, bucket):
    try:
        while True:
            b = await r.read(CHUNK)
            if not b:
                break
            await bucket.take(len(b))
            w.write(b)
            await w.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            w.close()
        except Exception:
            pass


async def handle(cr, cw):
    try:
        sr, sw = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        cw.close()
        return
    await asyncio.gather(pipe(cr, sw, up), pipe(sr, cw, down))


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
