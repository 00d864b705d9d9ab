"""Play the cloud agent of the demo: answer masked turns with the reply texts of a template file.

    streamproc tail masked-dialogue | python examples/cloud_reply.py examples/cloud_responses.jsonl

Each template line names the turn it answers (`in_reply_to`) and holds the reply `content` with
placeholders. The cloud only knows what it read on masked-dialogue, so the user and session of
each CloudResponse are the pseudonyms of the masked turn it answers (stdin, JSONL); the restore
flow maps them back to the real ids. Templates whose turn is not on stdin are skipped.
Standard library only.
"""

from __future__ import annotations

import json
import sys


def main(templates_path: str) -> int:
    masked = {}
    for line in sys.stdin:
        if line.strip():
            turn = json.loads(line)
            masked[turn["turn_id"]] = turn
    with open(templates_path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            template = json.loads(line)
            turn = masked.get(template["in_reply_to"])
            if turn is None:
                print(f"no masked turn {template['in_reply_to']} on stdin; skipped", file=sys.stderr)
                continue
            response = {**template, "user_id": turn["user_id"], "session_id": turn["session_id"]}
            print(json.dumps(response, ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "examples/cloud_responses.jsonl"))
