//! Command handlers: each turns its arguments into a validated request, calls the library, and
//! returns the exit code. Errors carry their own exit code (see `holdfast_core::exit`).

mod dynamo;
mod guard;
mod migrate;

use crate::cli::{Cli, Command};
use crate::output;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::report::{ErrorReport, FORMAT_VERSION};

/// An error that ends a command: printable, with an exit code.
pub trait Failure: std::fmt::Display + Classify {}
impl<T: std::fmt::Display + Classify> Failure for T {}

/// The result of a command: its exit code, or the error that ended it.
pub type CommandResult = Result<i32, Box<dyn Failure>>;

/// Runs the parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let json = cli.command.wants_json();
    let result = match &cli.command {
        Command::Migrate(command) => migrate::run(&cli.global, command).await,
        Command::Guard(command) => guard::run(&cli.global, command).await,
        Command::Dynamo(command) => dynamo::run(&cli.global, command).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            let outcome = error.outcome();
            let message = crate::remedies::with_remedy(&error.to_string(), error.remedy().as_ref());
            output::error_line(&message);
            if json {
                output::print_json(&ErrorReport {
                    format_version: FORMAT_VERSION,
                    outcome,
                    exit_code: outcome.code(),
                    error: message,
                });
            }
            outcome.code()
        }
    }
}

impl Command {
    fn wants_json(&self) -> bool {
        match self {
            Command::Migrate(m) => m.wants_json(),
            Command::Guard(g) => g.output().json,
            Command::Dynamo(d) => d.wants_json(),
        }
    }
}

/// Boxes an error as a [`Failure`].
pub fn fail<E: Failure + 'static>(e: E) -> Box<dyn Failure> {
    Box::new(e)
}

/// The exit code of an outcome.
pub fn code(outcome: Outcome) -> i32 {
    outcome.code()
}
