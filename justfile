# Common development loops. `pip install rust-just` installs `just`.

# Run the server on the embedded default (PostgreSQL under ./zerodb-data)
run:
    cargo run --bin zerodb -- serve

# The whole test suite (starts its own throwaway PostgreSQL)
test:
    cargo test --workspace

# Formatting and lints, as CI expects them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

fmt:
    cargo fmt --all

# Benchmarks (release profile)
bench:
    cargo bench --workspace
