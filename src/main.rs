//! The `rolechain` command: a thin layer over the library that parses arguments, reads inputs,
//! runs one command and prints its answer.

mod cli;

/// mimalloc serves the many small allocations of a build and its searches faster than the
/// system allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
