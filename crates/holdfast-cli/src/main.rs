//! `holdfast`: the command-line front end.
//!
//! Parses flags (clap), merges them with `holdfast.toml` and `HOLDFAST_*` variables into
//! validated requests, calls the library, and prints human output or `--json` on stdout, with
//! logs and progress on stderr. Exit codes follow `holdfast_core::exit`.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod output;
mod progress;
mod remedies;
mod settings;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use holdfast_core::exit;

fn main() {
    let matches = cli::Cli::command().get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let explicit = explicit_globals(&matches);
    init_logging(cli.global.verbose, cli.global.quiet);
    // DynamoDB copy and compare spread transforms, hashing and encoding over every core; the
    // other commands are I/O-bound and start faster on one thread.
    let threads = matches!(&cli.command, cli::Command::Dynamo(d) if d.wants_threads());
    let mut builder = if threads {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            output::error_line(&format!("cannot start the async runtime: {e}"));
            std::process::exit(exit::FAILED);
        }
    };
    let code = runtime.block_on(commands::run(cli, explicit));
    // Leave open connections to close with the process: their sessions (and locks) end with it.
    drop(runtime);
    std::process::exit(code);
}

/// `--config` and `--stage` when given on the command line (at any level), rather than by
/// `HOLDFAST_CONFIG` / `HOLDFAST_STAGE`, which a CI job may set for every command.
fn explicit_globals(matches: &ArgMatches) -> commands::ExplicitGlobals {
    let mut given = Vec::new();
    for (id, flag) in [("config", "--config"), ("stage", "--stage")] {
        let mut level = Some(matches);
        while let Some(m) = level {
            if m.value_source(id) == Some(ValueSource::CommandLine) {
                given.push(flag);
                break;
            }
            level = m.subcommand().map(|(_, sub)| sub);
        }
    }
    given
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    // `holdfast` covers every holdfast crate (targets match by prefix). The AWS SDK's own
    // warnings (a credential provider's multi-line dump) stay below the one-line error
    // Holdfast prints, unless -v.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,holdfast=info,aws=error",
        (false, 1) => "info,holdfast=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
