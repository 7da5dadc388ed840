"""Validates a SARIF log read from stdin against the JSON schema named as the first argument.

Prints one line per schema error (its JSON path and message) and exits 1 when there is any,
0 when the log is valid. Used by the tests through tests/it/support.rs.
"""

import json
import sys

import jsonschema


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    log = json.load(sys.stdin)
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    for error in errors:
        path = "/".join(str(p) for p in error.absolute_path)
        print(f"/{path}: {error.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
