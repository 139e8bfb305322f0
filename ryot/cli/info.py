"""``ryot info``: ryot's version, the git commit and the detected hardware, as JSON."""

from __future__ import annotations

import argparse
import json

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser("info", help="print ryot version, git commit and detected hardware")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ryot.infra.provenance import fingerprint

    print(json.dumps(fingerprint(), indent=2))
    return 0
