//! `cargo bench -p zerodb-index --features bench-internals`: one large namespace, in
//! process; see `zerodb_index::bench` for what it prints and its settings.

fn main() {
    zerodb_index::bench::run();
}
