"""One error type for bad input, so every caller can report it on a single line."""


class DataError(Exception):
    """Bad or missing input data. The message names the file (or dataset) and the problem on
    one line, e.g. ``/data/LIVE/jpeg/img3.bmp: missing image``."""
