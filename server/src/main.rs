//! The `baton` binary: everything lives in the library; see `baton --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    baton_server::cli::main()
}
