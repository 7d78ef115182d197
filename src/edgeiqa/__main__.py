"""``python -m edgeiqa``: the study's commands for one's own images.

- ``score METHOD IMAGE... [--ref REFERENCE...] [--csv FILE]``: a baseline's own score of each
  image (:mod:`edgeiqa.scoring`), one line per image: path, method, score, direction.

Exit status: 0 when every image was scored, 1 when any failed (each failure is one line on
stderr, and the others are still scored and written), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from edgeiqa import scoring


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edgeiqa", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser(
        "score",
        help="score images with a baseline (its own scale and direction)",
        description="Methods: "
        + "; ".join(f"{s.name}: {s.description}" for s in scoring.SCORERS.values()),
    )
    score.add_argument("method", choices=list(scoring.SCORERS))
    score.add_argument("images", nargs="+", help="image files, folders or glob patterns")
    score.add_argument(
        "--ref",
        nargs="+",
        default=[],
        metavar="REFERENCE",
        help="references of a full-reference method, paired with the images in order",
    )
    score.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    score.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _score(args: argparse.Namespace) -> int:
    try:
        table = scoring.score_images(
            args.method, args.images, args.ref, progress=not args.no_progress
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for row in table.itertuples(index=False):
        if row.error:
            print(row.error, file=sys.stderr)
        else:
            print(f"{row.path}\t{row.method}\t{row.score:.6g}\t{row.direction}")
    if args.csv is not None:
        try:
            args.csv.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(args.csv, index=False)
        except OSError as exc:
            print(f"{args.csv}: cannot write the table ({exc.strerror or exc})", file=sys.stderr)
            return 1
    return 1 if (table["error"] != "").any() else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "score":
        return _score(args)
    return 2  # argparse requires a command; kept for type checkers


if __name__ == "__main__":
    sys.exit(main())
