"""One error type for bad input, so every caller can report it on a single line."""


class DataError(Exception):
    """Bad or missing input data. The message names the file (or dataset) and the problem on
    one line, e.g. ``/data/LIVE/jpeg/img3.bmp: missing image``."""


def one_line(exc: BaseException, detail: str | None = None) -> str:
    """An exception as one line: its type and ``detail``, else the first line of its message."""
    if detail is None:
        text = str(exc).strip()
        detail = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
