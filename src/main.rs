//! `ringway`: the CLI (`run`, `check`, `version`) over the library.

use mimalloc::MiMalloc;

/// mimalloc: decoding JSON trees was ~2× faster with it than with glibc malloc here (shared/CRATES.md).
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    std::process::exit(ringway::cli::main());
}
