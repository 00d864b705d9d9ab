"""`streamproc eval`: extraction quality of the configured extractor on a benchmark file."""

from __future__ import annotations

import argparse
import asyncio

from streamproc.settings import Settings


def run_eval(settings: Settings, args: argparse.Namespace) -> int:
    from streamproc.app import build_extractor
    from streamproc.eval.runner import run_eval_from_args

    async def main() -> int:
        extractor = build_extractor(settings)
        try:
            await run_eval_from_args(args, extractor)
        finally:
            await extractor.aclose()
        return 0

    return asyncio.run(main())
