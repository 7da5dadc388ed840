//! The `rolechain` command: a thin layer over the library that parses arguments, reads inputs,
//! runs one command and prints its answer.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
