"""``python -m tests.support.moto_s3_main -H … -p …``: moto's server, with PutObject made atomic.

AWS S3 evaluates ``If-None-Match: *`` and writes the object as one step: of two concurrent writers of
a new key exactly one succeeds and the other gets 412. moto checks and then writes without a lock,
so on its threaded server two racing writers can both succeed. The blob store relies on S3's rule
(every chunk is accepted once), so the fake is made to keep it: one PutObject at a time.
"""

from __future__ import annotations

import functools
import threading

from moto import server
from moto.s3.responses import S3Response

_lock = threading.Lock()
_put_object = S3Response.put_object


@functools.wraps(_put_object)
def _atomic_put_object(self, *args, **kwargs):
    with _lock:
        return _put_object(self, *args, **kwargs)


S3Response.put_object = _atomic_put_object

if __name__ == "__main__":
    server.main()
