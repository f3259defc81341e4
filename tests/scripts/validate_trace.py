#!/usr/bin/python3
"""Validates every line of JSONL trace files against docs/trace-schema.json.

Usage: validate_trace.py SCHEMA TRACE.jsonl...
Prints {"events": N, "by_type": {...}} on success; exits 1 naming the file, line and error.
Needs Debian's python3-jsonschema (scripts/deps.txt)."""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: validate_trace.py SCHEMA TRACE.jsonl...")
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    by_type, total = {}, 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                event = json.loads(line)
                errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
                if errors:
                    e = errors[0]
                    sys.exit(f"{path}:{n}: {event.get('event')}: {'/'.join(map(str, e.path))}: "
                             f"{e.message}")
                by_type[event["event"]] = by_type.get(event["event"], 0) + 1
                total += 1
    print(json.dumps({"events": total, "by_type": by_type}, sort_keys=True))


if __name__ == "__main__":
    main()
