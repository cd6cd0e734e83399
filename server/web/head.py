"""HEAD on the pages answers like GET without the body (it answered 405).

Link checkers, uptime monitors and chat apps unfurling a poster's link send ``HEAD /r/…`` or
``HEAD /p/…`` first. Litestar routes HEAD only to handlers that declare it, so the app's ASGI handler
is wrapped: a HEAD request outside ``/api/`` and ``/sync/`` is run as GET and its body dropped; the
status and headers (``Content-Length`` included) are those of the GET. The API keeps answering 405
to HEAD: some of its GETs are event streams that never end.
"""

from __future__ import annotations

from litestar import Litestar

NOT_PAGES = ("/api/", "/sync/")


def answer_head_on_pages(app: Litestar) -> None:
    inner = app.asgi_handler

    async def handler(scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"].startswith(NOT_PAGES):
            await inner(scope, receive, send)
            return

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await inner({**scope, "method": "GET"}, receive, headers_only)

    app.asgi_handler = handler
