//! The command line, shaped like KrakenD's: `run`, `check`, `version`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, ConfigError, ProcessEnv, ServiceConfig, VERSION};
use crate::server::{self, RunOptions};
use crate::telemetry::logging;

/// Exit code of `run` on a config error: KrakenD calls `os.Exit(-1)`.
pub const EXIT_CONFIG_RUN: i32 = 255;

#[derive(Debug, Parser)]
#[command(name = "ringway", version = VERSION, about = "Ringway: a KrakenD-compatible API gateway, thread-per-core on io_uring")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Run(RunArgs),
    /// Validate a configuration file.
    #[command(alias = "validate")]
    Check(CheckArgs),
    /// Print the version.
    Version,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Path to the configuration file.
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
    /// Enable the /__debug/ endpoint and debug logging.
    #[arg(short = 'd', long = "debug", action = clap::ArgAction::Count)]
    pub debug: u8,
    /// Listening port, overriding `port` (0 = not set).
    #[arg(short = 'p', long = "port", default_value_t = 0)]
    pub port: u16,
    /// Worker threads, one runtime and listener each (0 = one per core).
    #[arg(short = 'w', long = "workers", env = "RINGWAY_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Don't pin workers to cores.
    #[arg(long = "no-pin")]
    pub no_pin: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Path to the configuration file.
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
    /// Print how the configuration was understood (repeat for more detail).
    #[arg(short = 'd', long = "debug", action = clap::ArgAction::Count)]
    pub debug: u8,
    /// Also build the router and every endpoint pipe, and check that the port can be bound.
    #[arg(short = 't', long = "test-gin-routes")]
    pub test_routes: bool,
    /// Strict mode: unknown keys and unknown extra_config namespaces are errors, not warnings.
    #[arg(short = 'l', long = "lint")]
    pub lint: bool,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Check(args) => check(args),
        Command::Version => {
            println!("Ringway Version: {VERSION}");
            println!("Rust Version: {}", option_env!("RINGWAY_RUSTC_VERSION").unwrap_or("stable"));
            println!("Glibc Version: none (not linked against Go's runtime)");
            0
        }
    }
}

fn run(args: RunArgs) -> i32 {
    let Some(path) = args.config else {
        println!("Please, provide the path to the configuration file with --config or see all the options with --help");
        return 0;
    };
    if args.debug > 0 {
        logging::set_level(logging::Level::Debug);
    }
    let mut config = match load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ERROR parsing the configuration file: {}", with_file(&path, &e));
            return EXIT_CONFIG_RUN;
        }
    };
    for w in &config.warnings {
        logging::warn(w);
    }
    if args.port != 0 {
        config.port = args.port;
    }
    if args.debug > 0 {
        config.debug_endpoint = true;
    }
    match server::run(Arc::new(config), RunOptions { workers: args.workers, pin: !args.no_pin }) {
        Ok(()) => 0,
        Err(e) => {
            logging::error(&e);
            1
        }
    }
}

fn check(args: CheckArgs) -> i32 {
    let Some(path) = args.config else {
        println!("Please, provide the path to the configuration file with --config or see all the options with --help");
        return 1;
    };
    println!("Parsing configuration file: {}", path.display());
    let config = match validate(&path) {
        Ok(c) => c,
        Err(e) => {
            println!("ERROR parsing the configuration file:\t{}", with_file(&path, &e));
            return 1;
        }
    };
    if args.lint && !config.warnings.is_empty() {
        for w in &config.warnings {
            println!("ERROR linting the configuration file:\t{w}");
        }
        return 1;
    }
    for w in &config.warnings {
        println!("WARNING: {w}");
    }
    if args.debug > 0 {
        print!("{}", config::dump(&config));
    }
    if args.test_routes {
        if let Err(e) = test_pipes(&config) {
            println!("ERROR testing the configuration file:\t{e}");
            return 1;
        }
    }
    println!("Syntax OK!");
    0
}

/// What `check` validates: the file, then the routes (conflicts that make KrakenD panic at start-up are found
/// without `-t` here).
pub fn validate(path: &Path) -> Result<ServiceConfig, ConfigError> {
    let config = load(path)?;
    crate::router::Router::build(&config)?;
    Ok(config)
}

/// `check -t`: also builds what a worker builds (endpoint pipes, backend hosts, the TLS listener from its files).
fn test_pipes(config: &ServiceConfig) -> Result<(), String> {
    if let Some(tls) = &config.tls {
        server::tls::server_config(tls)?;
    }
    for endpoint in &config.endpoints {
        crate::proxy::Endpoint::build(endpoint, config, 0, &crate::backend::cache::Buckets::default())?;
    }
    Ok(())
}

fn load(path: &Path) -> Result<ServiceConfig, ConfigError> {
    config::load(path, &ProcessEnv)
}

/// KrakenD prefixes semantic errors with the file name: `'krakend.json': unsupported version: 2 (want: 3)`.
fn with_file(path: &Path, e: &ConfigError) -> String {
    let msg = e.to_string();
    if msg.starts_with('\'') || msg.starts_with("open ") {
        msg
    } else {
        format!("'{}': {msg}", path.display())
    }
}
