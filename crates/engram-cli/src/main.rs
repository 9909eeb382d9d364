//! The `engram` command. Parses arguments, runs one command, maps the outcome to an exit
//! code: 0 success, 1 error, 2 usage (bad arguments). The work lives in the libraries.

mod args;
mod commands;
mod devnet;
mod input;
mod keys;
mod network;
mod output;

use std::process::ExitCode;

/// An error in how the command was invoked (exit code 2), as opposed to one in doing it.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let matches = <args::Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <args::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let command = matches.subcommand_name().unwrap_or("engram").to_string();
    let server = matches!(
        cli.command,
        args::Command::Serve(_) | args::Command::Web(_) | args::Command::Validate(_)
    );
    // Log lines for servers; spans to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT
    // is set. The guard sends what is batched when it drops, before the process exits.
    let traces = match engram_trace::init("engram", server) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("engram: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("engram: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The command's root span: every embedding, store call and request below it.
    let span = tracing::info_span!("engram", otel.name = %format!("engram {command}"));
    let outcome = runtime.block_on(tracing::Instrument::instrument(commands::run(cli), span));
    drop(runtime);
    drop(traces);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut message = format!("engram: error: {err}");
            for cause in err.chain().skip(1) {
                message.push_str(&format!(": {cause}"));
            }
            eprintln!("{message}");
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
