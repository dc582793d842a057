//! The `helix` binary: everything happens in [`helix::cli`].

fn main() {
    std::process::exit(helix::cli::main());
}
