# Common development loops. `pip install rust-just` installs `just`.

# Run the server on the embedded default (PostgreSQL under ./zerodb-data)
run:
    cargo run --bin zerodb -- serve

# The whole test suite, as README gives it: installs what is missing, fuzzes the API,
# runs every test (arguments go to cargo test)
test *args:
    ./scripts/test {{args}}

# Property-based API fuzzing with schemathesis against a debug server (README, Development)
fuzz examples="25":
    cargo build --workspace --all-features
    target/schemathesis-venv/bin/python scripts/fuzz_api.py --max-examples {{examples}}

# Formatting and lints, as CI expects them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings

fmt:
    cargo fmt --all

# Benchmarks through the HTTP API (release build; `zerodb-bench --help` lists them)
bench area="vectors":
    cargo run --release -p zerodb-bench --all-features -- {{area}}
