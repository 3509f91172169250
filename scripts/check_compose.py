"""Validates a Compose file against the Compose specification's JSON schema.

Usage: check_compose.py COMPOSE_FILE SCHEMA_FILE
Prints the ZERODB__ settings the file's services set, as KEY=VALUE lines with every
`${VARIABLE...}` replaced by a 40-character placeholder, on success; exits 1 with the
schema errors otherwise. Runs with the schemathesis virtualenv, which has a JSON schema
validator (jsonschema_rs) and PyYAML.
"""

import json
import re
import sys

import jsonschema_rs
import yaml


def main() -> int:
    compose_path, schema_path = sys.argv[1], sys.argv[2]
    with open(compose_path, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema_rs.Draft7Validator(schema)
    errors = list(validator.iter_errors(document))
    for error in errors:
        where = "/".join(str(p) for p in error.instance_path) or "(root)"
        print(f"{compose_path}: {where}: {error.message}", file=sys.stderr)
    if errors:
        return 1
    settings = {}
    for service in document.get("services", {}).values():
        environment = service.get("environment") or {}
        pairs = environment.items() if isinstance(environment, dict) else (
            item.split("=", 1) for item in environment
        )
        for name, value in pairs:
            if name.startswith("ZERODB__"):
                settings[name] = re.sub(r"\$\{[^}]*\}", "x" * 40, str(value))
    for name in sorted(settings):
        print(f"{name}={settings[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
