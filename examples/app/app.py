"""The example service that Containerfile.example packages and tests/appservers.rs runs.

No framework: `app` is a plain ASGI application (for uvicorn, or gunicorn with the
uvicorn worker) and `wsgi` the same routes as a WSGI application (gunicorn's sync
workers). Routes:

    GET /health           200 "ok": what `init --probe http://127.0.0.1:${PORT}/health` asks
    GET /slow?seconds=N   waits N seconds (default 1), then 200; logs when it starts, so a
                          test knows the request is in flight before it sends SIGTERM
    GET /                 200 with the pid of the process that answered

Logs go to stdout, one line each; `LOG_FORMAT=json` (the variable init reads too) makes
them JSON objects.
"""

import asyncio
import json
import os
import sys
import time
from urllib.parse import parse_qs

JSON_LOGS = os.environ.get("LOG_FORMAT", "").lower() == "json"


def log(message, **fields):
    if JSON_LOGS:
        line = json.dumps({"timestamp": time.time(), "message": message, **fields})
    else:
        line = " ".join([message] + [f"{k}={v}" for k, v in fields.items()])
    print(line, file=sys.stdout, flush=True)


def route(method, path, query):
    """Returns (status, body, seconds to wait first) for one request."""
    if method not in ("GET", "HEAD"):
        return 405, "method not allowed\n", 0.0
    if path == "/health":
        return 200, "ok\n", 0.0
    if path == "/slow":
        try:
            seconds = float(parse_qs(query).get("seconds", ["1"])[0])
        except ValueError:
            return 400, "seconds must be a number\n", 0.0
        return 200, f"slept {seconds:g}s\n", max(0.0, min(seconds, 300.0))
    if path == "/":
        return 200, f"hello from pid {os.getpid()}\n", 0.0
    return 404, "not found\n", 0.0


def headers(body):
    return [(b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode())]


async def app(scope, receive, send):
    """ASGI entry point."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                log("app started", pid=os.getpid())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                log("app stopping", pid=os.getpid())
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    status, body, wait = route(scope["method"], scope["path"],
                               scope.get("query_string", b"").decode("latin-1"))
    if wait:
        log("slow request started", seconds=wait, pid=os.getpid())
        await asyncio.sleep(wait)
        log("slow request finished", seconds=wait, pid=os.getpid())
    data = body.encode()
    await send({"type": "http.response.start", "status": status, "headers": headers(data)})
    await send({"type": "http.response.body", "body": data})


def wsgi(environ, start_response):
    """WSGI entry point: the same routes."""
    status, body, wait = route(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"),
                               environ.get("QUERY_STRING", ""))
    if wait:
        log("slow request started", seconds=wait, pid=os.getpid())
        time.sleep(wait)
        log("slow request finished", seconds=wait, pid=os.getpid())
    data = body.encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    start_response(f"{status} {reason[status]}",
                   [(k.decode(), v.decode()) for k, v in headers(data)])
    return [data]
