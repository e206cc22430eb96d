"""How much a request may send, the same on both stacks.

Flask answers 413 to a body that declares a Content-Length over
MAX_CONTENT_LENGTH. Werkzeug 1.0.1, the classic stack's, leaves two gaps that
Werkzeug 3 closes:

- a body sent chunked (no Content-Length) is read whole by form parsing and
  `get_data()`, however long it is;
- form fields are held in memory while a form is parsed, with no cap
  (Werkzeug 3 caps multipart fields, not a urlencoded form, read whole).

LimitedRequest closes both: a chunked body is refused with 413 as soon as it
grows past MAX_CONTENT_LENGTH, and form parsing holds at most
MAX_FORM_MEMORY_SIZE bytes of fields, multipart or urlencoded (app/config.py
has both).
"""
from flask import Request, current_app
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

READ_SIZE = 64 * 1024
URLENCODED = "application/x-www-form-urlencoded"


class LimitedRequest(Request):
    @property
    def max_form_memory_size(self):
        return current_app.config["MAX_FORM_MEMORY_SIZE"] if current_app else None

    @cached_property
    def stream(self):
        limit = self.max_content_length
        if self.mimetype == URLENCODED and self.max_form_memory_size is not None:
            # A urlencoded form is read whole into memory (by Werkzeug 3 too,
            # which caps only multipart fields): its body is its fields.
            limit = min(limit, self.max_form_memory_size) if limit else self.max_form_memory_size
        length = self.content_length
        if limit is not None and length is not None and length > limit:
            raise RequestEntityTooLarge()
        stream = get_input_stream(self.environ)
        if limit is not None and length is None:
            return CappedBody(stream, limit)
        return stream


class CappedBody:
    """A body of unknown length, readable up to `limit` bytes: reading one
    byte more raises RequestEntityTooLarge (413)."""

    def __init__(self, stream, limit):
        self._stream = stream
        self._left = limit

    def read(self, size=-1):
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(READ_SIZE), b""))
        return self._counted(self._stream.read(min(size, self._left + 1)))

    def readline(self, size=-1):
        bound = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._counted(self._stream.readline(bound))

    def _counted(self, data):
        self._left -= len(data)
        if self._left < 0:
            raise RequestEntityTooLarge()
        return data
