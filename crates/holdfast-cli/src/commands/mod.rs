//! Command handlers: each turns its arguments into a validated request, calls the library, and
//! returns the exit code. Errors carry their own exit code (see `holdfast_core::exit`).
//!
//! Each capability has one module here; [`run`] has one arm per capability, which asks the
//! module what its command prints ([`Info`]) and runs it.

mod dynamo;
pub mod env;
mod guard;
mod migrate;
pub mod refresh;

use crate::cli::{Cli, Command, OutputArgs};
use crate::output;
use holdfast_core::exit::Classify;
use holdfast_core::exit::Outcome;
use holdfast_report::{Command as ReportCommand, Envelope, ErrorReport};

/// An error that ends a command: printable, with an exit code.
pub trait Failure: std::fmt::Display + Classify {}
impl<T: std::fmt::Display + Classify> Failure for T {}

/// The result of a command: its exit code, or the error that ended it.
pub type CommandResult = Result<i32, Box<dyn Failure>>;

/// What a command prints and which files it reads, known before it runs.
#[derive(Debug, Clone, Copy)]
pub struct Info {
    /// The report it prints (`None`: it prints no report).
    pub report: Option<ReportCommand>,
    pub output: OutputArgs,
    /// Whether it reads `holdfast.toml` (and so `--config` and `--stage` mean something to it).
    pub reads_config: bool,
}

impl Info {
    /// A command that prints `report` and reads `holdfast.toml`.
    pub fn new(report: ReportCommand, output: OutputArgs) -> Info {
        Info {
            report: Some(report),
            output,
            reads_config: true,
        }
    }

    /// A command that prints no report.
    pub fn text_only() -> Info {
        Info {
            report: None,
            output: OutputArgs::default(),
            reads_config: true,
        }
    }

    /// The same, for a command that takes every setting from its flags.
    pub fn without_config(self) -> Info {
        Info {
            reads_config: false,
            ..self
        }
    }
}

/// The global flags given on the command line (not through a variable) that a command
/// without configuration refuses: `--config`, `--stage`.
pub type ExplicitGlobals = Vec<&'static str>;

/// Runs the parsed command line and returns the process exit code.
pub async fn run(cli: Cli, explicit: ExplicitGlobals) -> i32 {
    let info = match &cli.command {
        Command::Migrate(c) => c.info(),
        Command::Guard(c) => c.info(),
        Command::Dynamo(c) => c.info(),
        Command::Env(c) => c.info(),
        Command::Refresh(c) => c.info(),
    };
    let result = match refuse_config(&info, &explicit) {
        Err(e) => Err(e),
        Ok(()) => match &cli.command {
            Command::Migrate(c) => migrate::run(&cli.global, c).await,
            Command::Guard(c) => guard::run(&cli.global, c).await,
            Command::Dynamo(c) => dynamo::run(&cli.global, c).await,
            Command::Env(c) => env::run(&cli.global, c).await,
            Command::Refresh(c) => refresh::run(&cli.global, c).await,
        },
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            let outcome = error.outcome();
            let remedy = error.remedy();
            let message = crate::remedies::with_remedy(&error.to_string(), remedy.as_ref());
            output::error_line(&message);
            if let (true, Some(command)) = (info.output.json, info.report) {
                output::print_json(&ErrorReport {
                    envelope: Envelope::new(command, outcome),
                    error: message,
                    remedy,
                });
            }
            outcome.code()
        }
    }
}

/// `--config` / `--stage` given to a command that reads no configuration: a usage error,
/// rather than a setting silently ignored.
fn refuse_config(info: &Info, explicit: &ExplicitGlobals) -> Result<(), Box<dyn Failure>> {
    match explicit.first() {
        Some(flag) if !info.reads_config => {
            let command = info.report.map_or("this command", ReportCommand::as_str);
            Err(fail(crate::settings::UsageError(format!(
                "{flag} does not apply to `holdfast {command}`: it reads no holdfast.toml and takes every setting from its own flags"
            ))))
        }
        _ => Ok(()),
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

/// Ctrl-C stops a long run at its next page or batch, with its progress saved; a second
/// Ctrl-C exits at once (exit 4: what was recorded stands).
pub(crate) fn stop_on_ctrl_c(stop: &std::sync::Arc<holdfast_dynamo::stop::Stop>) {
    let stop = std::sync::Arc::clone(stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            output::progress("interrupted: finishing the work in flight and saving the progress (Ctrl-C again to kill)");
            stop.interrupt();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(holdfast_core::exit::STOPPED_RESUMABLE);
            }
        }
    });
}
