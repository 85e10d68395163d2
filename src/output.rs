//! The one output layer: results on stdout, messages on stderr, colour and
//! `NO_COLOR` for both (log lines too), quiet and verbose, the progress
//! draw target, and a closed stdout turned into `Error::ClosedPipe` once.
//! Data (JSON documents, patches, plans) goes out exactly as given, masked
//! by path by whoever built it; text and messages pass the value mask.

use std::io::{IsTerminal, Write};

use console::Style;

use crate::error::Error;
use crate::secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub quiet: bool,
    pub verbose: u8,
    color_out: bool,
    color_err: bool,
    err_terminal: bool,
}

impl Printer {
    /// `no_color` is whether `NO_COLOR` is set to something non-empty.
    pub fn new(mode: ColorMode, no_color: bool, quiet: bool, verbose: u8) -> Printer {
        let decide = |terminal: bool| match mode {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => !no_color && terminal,
        };
        let err_terminal = std::io::stderr().is_terminal();
        Printer {
            quiet,
            verbose,
            color_out: decide(std::io::stdout().is_terminal()),
            color_err: decide(err_terminal),
            err_terminal,
        }
    }

    /// A printer for tests and in-process use: no colour, not quiet.
    pub fn plain() -> Printer {
        Printer {
            quiet: false,
            verbose: 0,
            color_out: false,
            color_err: false,
            err_terminal: false,
        }
    }

    pub fn color_out(&self) -> bool {
        self.color_out
    }

    pub fn color_err(&self) -> bool {
        self.color_err
    }

    /// Whether a live progress bar may be drawn (stderr is a terminal).
    pub fn draws_progress(&self) -> bool {
        self.err_terminal && !self.quiet
    }

    /// A JSON document on stdout, pretty, byte for byte as the same value
    /// written to a file (`json::file::to_pretty`). Nothing is masked here:
    /// the value must be masked by path already (`secrets::redact`,
    /// placeholders), because masking values inside data would rewrite
    /// any field that merely contains a secret, and an apply of that
    /// output would store the `***`.
    pub fn json(&self, value: &impl serde::Serialize) -> Result<(), Error> {
        self.stdout(&crate::json::file::to_pretty(value)?)
    }

    /// A JSON document on one line of stdout (a stream of records, such
    /// as `watch --format json`); masked by path, as for `json`.
    pub fn json_line(&self, value: &serde_json::Value) -> Result<(), Error> {
        self.stdout(format!("{value}\n").as_bytes())
    }

    /// Text for people on stdout (a text diff, a summary, a report), with
    /// every known secret value masked: nothing parses it back, so a `***`
    /// there corrupts nothing, and it may go where secrets must not (a
    /// pull-request comment).
    pub fn text(&self, text: &str) -> Result<(), Error> {
        self.stdout(secrets::mask_known(text).as_bytes())
    }

    /// One line of text for people on stdout, masked as `text`.
    pub fn text_line(&self, text: &str) -> Result<(), Error> {
        self.text(&format!("{text}\n"))
    }

    fn stdout(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut out = std::io::stdout().lock();
        match out.write_all(bytes).and_then(|_| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::ClosedPipe),
            Err(e) => Err(Error::io(std::path::Path::new("<stdout>"), e)),
        }
    }

    /// A message on stderr, unless quiet.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            self.err_line(text);
        }
    }

    /// A detail shown only with `-v`.
    pub fn detail(&self, text: &str) {
        if !self.quiet && self.verbose > 0 {
            self.err_line(text);
        }
    }

    pub fn warn(&self, text: &str) {
        if !self.quiet {
            let label = self.paint_err(Style::new().yellow(), "warning:");
            self.err_line(&format!("{label} {text}"));
        }
    }

    /// Always printed, quiet or not.
    pub fn error(&self, error: &Error) {
        if matches!(error, Error::ClosedPipe) {
            return;
        }
        let label = self.paint_err(Style::new().red().bold(), "error:");
        self.err_line(&format!("{label} {error}"));
    }

    fn paint_err(&self, style: Style, text: &str) -> String {
        if self.color_err {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn err_line(&self, text: &str) {
        let text = secrets::mask_known(text);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// Sets up `tracing` on stderr with this printer's colour and masking:
    /// warnings by default, info with -v, debug with -vv, errors with -q.
    pub fn init_logging(&self) {
        let level = match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            _ => "debug",
        };
        // Our crate only: dependencies' debug output could echo request data.
        let filter = tracing_subscriber::EnvFilter::new(format!("warn,tsmigrate={level}"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(|| MaskedStderr)
            .with_ansi(self.color_err)
            .with_target(false)
            .without_time()
            .try_init();
    }
}

/// stderr for log lines, with known secrets masked.
struct MaskedStderr;

impl Write for MaskedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(secrets::mask_known(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
