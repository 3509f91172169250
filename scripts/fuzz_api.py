"""Property-based API fuzzing: schemathesis against a real server on the embedded default.

Starts `zerodb serve` (embedded PostgreSQL) on a free port under a fresh data directory,
registers a user, creates a project with its database enabled, seeds one object of each
kind (table, row, vector, memory, file, API key, event), then runs schemathesis over every
operation of the served OpenAPI document with those real ids as path values. Any 5xx, or a
response that does not match its documented schema, fails the run.

Usage: python scripts/fuzz_api.py [--binary target/debug/zerodb] [--max-examples N]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, body=None, token=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        raise SystemExit(f"seeding {method} {path} failed: {e.code} {e.read()[:500]!r}")


def wait_ready(base, server, deadline_s=120):
    started = time.time()
    while time.time() - started < deadline_s:
        if server.poll() is not None:
            raise SystemExit(f"zerodb serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready")


def seed(base, binary, env, cwd):
    api = base + "/api/v1"
    # An administrator, made with the CLI as operators do, so the admin endpoints are
    # reached too.
    subprocess.run(
        [binary, "user", "create", "--email", "fuzz@example.com", "--admin"],
        cwd=cwd, env={**env, "ZERODB_USER_PASSWORD": PASSWORD}, check=True,
        stdout=subprocess.DEVNULL,
    )
    token = request(api, "POST", "/auth/login", {"email": "fuzz@example.com", "password": PASSWORD})[
        "access_token"
    ]
    project = request(api, "POST", "/projects", {"project_name": "fuzz"}, token)["project_id"]
    request(api, "POST", f"/projects/{project}/database", None, token, raw=b"")
    db = f"/projects/{project}/database"
    request(
        api,
        "POST",
        f"{db}/tables",
        {
            "table_name": "items",
            "schema_definition": {
                "columns": {
                    "name": {"type": "string", "required": True},
                    "n": "integer",
                    "x": "number",
                    "at": "timestamp",
                    "doc": "json",
                }
            },
        },
        token,
    )
    request(api, "POST", f"{db}/tables/items/rows", {"rows": [{"name": "a", "n": 1, "x": 0.5}]}, token)
    vector = request(
        api,
        "POST",
        f"{db}/vectors/upsert",
        {"vector_embedding": [0.1, 0.2, 0.3], "document": "d", "vector_metadata": {"k": "v"}},
        token,
    )["vector_id"]
    memory = request(
        api,
        "POST",
        f"{db}/memory/store",
        {
            "agent_id": "00000000-0000-4000-8000-000000000001",
            "session_id": "00000000-0000-4000-8000-000000000002",
            "role": "user",
            "content": "the fuzzer was here",
        },
        token,
    )["memory_id"]
    file_id = request(
        api,
        "POST",
        f"{db}/files/upload?file_name=a.txt",
        None,
        token,
        headers={"Content-Type": "text/plain"},
        raw=b"hello",
    )["file_id"]
    key_id = request(
        api, "POST", f"/projects/{project}/api-keys", {"name": "fuzz", "scopes": ["*"]}, token
    )["key_id"]
    request(api, "POST", f"{db}/events/publish", {"topic": "t", "event_payload": {"a": 1}}, token)
    return {
        "token": token,
        "project_id": project,
        "table_name": "items",
        "vector_id": vector,
        "memory_id": memory,
        "file_id": file_id,
        "key_id": key_id,
        "group": "g",
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "debug", "zerodb"))
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="zerodb-fuzz-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "ZERODB__SERVER__PORT": str(port),
            "ZERODB__DATA_DIR": os.path.join(work, "data"),
            "ZERODB__AUTH__JWT_SECRET": "fuzz-secret-fuzz-secret-fuzz-secret-0123",
            "ZERODB__LOG__LEVEL": os.environ.get("FUZZ_LOG_LEVEL", "warn"),
            # The fuzzer sends thousands of requests as one user; its 429s would only hide
            # the handlers behind them.
            "ZERODB__RATE_LIMIT__ENABLED": "false",
        }
    )
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen(
        [args.binary, "serve"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    code = 1
    try:
        wait_ready(base, server)
        ids = seed(base, args.binary, env, work)
        config = os.path.join(work, "schemathesis.toml")
        with open(config, "w") as f:
            f.write("[parameters]\n")
            for name in ("project_id", "table_name", "vector_id", "memory_id", "file_id", "key_id", "group"):
                f.write(f'"path.{name}" = "{ids[name]}"\n')
        st = os.path.join(os.path.dirname(sys.executable), "schemathesis")
        # No unsupported_method check: GET and DELETE of any path just below vectors/
        # ("search", "get", ...) read or delete the vector with that id, by design, and the
        # handler test openapi_document_matches_the_served_routes checks the 405 of every
        # other undocumented method on every documented path.
        common = [
            "--url", base,
            "--header", f"Authorization: Bearer {ids['token']}",
            "--checks", os.environ.get(
                "FUZZ_CHECKS",
                "not_a_server_error,status_code_conformance,content_type_conformance,"
                "response_schema_conformance,ignored_auth",
            ),
            "--max-examples", str(args.max_examples),
            "--generation-allow-x00", "true",
            "--phases", os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing"),
            "--workers", "2",
            "--request-timeout", "30",
            "--suppress-health-check", "all",
            "--no-color",
            # Deleting the seeded project would turn every later case into a 404; an SSE
            # stream never ends by itself (it has end-to-end tests of its own).
            "--exclude-path", "/api/v1/projects/{project_id}",
            "--exclude-path", "/api/v1/projects/{project_id}/database/events/stream",
        ]
        if args.seed is not None:
            common += ["--seed", str(args.seed)]
        # Everything that keeps the seeded objects first, then the deletions.
        passes = [["--exclude-method", "DELETE"], ["--include-method", "DELETE"]]
        for selection in passes:
            command = [st, "--config-file", config, "run", f"{base}/api/v1/openapi.json", *common, *selection]
            shown = " ".join("Authorization: Bearer ***" if "Bearer" in c else c for c in command)
            print("running:", shown, flush=True)
            code = subprocess.call(command, cwd=work)
            if code != 0:
                break
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log.close()
        if code != 0:
            print(f"--- server log ({log_path}) ---")
            with open(log_path) as f:
                sys.stdout.write(f.read()[-20000:])
        elif not os.environ.get("FUZZ_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
