//! What the commands tell the person at the terminal, on stderr: colour
//! and symbols only when stderr is a terminal (or `--color always`), none
//! with `NO_COLOR`, nothing but warnings and errors with `--quiet`, and a
//! spinner for long steps that becomes plain lines in a CI log.
//!
//! The prompt hook's engine never comes here: it has no flags to read and
//! writes only what the shell evaluates.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug)]
struct Settings {
    color: bool,
    quiet: bool,
    verbose: bool,
    spinner: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

fn settings() -> Settings {
    *SETTINGS.get_or_init(|| decide(ColorWhen::Auto, false, false))
}

fn decide(when: ColorWhen, quiet: bool, verbose: bool) -> Settings {
    let terminal = std::io::stderr().is_terminal();
    let vars = crate::vars::process();
    let dumb = vars.get("TERM").is_some_and(|t| t == "dumb");
    // no-color.org: any non-empty NO_COLOR; an explicit flag still wins.
    let no_color = vars.non_empty("NO_COLOR").is_some();
    let color = match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => terminal && !dumb && !no_color,
    };
    Settings {
        color,
        quiet,
        verbose,
        spinner: terminal && !dumb && !quiet && !verbose,
    }
}

/// Called once, from the command line, before anything is printed.
pub fn configure(when: ColorWhen, quiet: bool, verbose: bool) {
    let _ = SETTINGS.set(decide(when, quiet, verbose));
}

pub fn verbose() -> bool {
    settings().verbose
}

pub fn green(text: &str) -> String {
    paint(GREEN, text)
}

pub fn yellow(text: &str) -> String {
    paint(YELLOW, text)
}

pub fn red(text: &str) -> String {
    paint(RED, text)
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn paint(code: &str, text: &str) -> String {
    if settings().color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

fn emit(line: fmt::Arguments) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// A message made safe for the terminal: what it names may come from a
/// repository or an environment (see `text::terminal`). Colour codes are
/// added after, by pyve itself.
fn safe(message: fmt::Arguments) -> String {
    crate::text::terminal(&message.to_string()).into_owned()
}

/// `pyve: …`, the ordinary progress of a command; silent with `--quiet`.
pub fn info(message: fmt::Arguments) {
    if !settings().quiet {
        emit(format_args!("{} {}", paint(BOLD, "pyve:"), safe(message)));
    }
}

/// A line that continues the one before it (a list, a hint); silent with
/// `--quiet`.
pub fn detail(message: fmt::Arguments) {
    if !settings().quiet {
        emit(format_args!("{}", safe(message)));
    }
}

/// `pyve: warning: …`, shown even with `--quiet`.
pub fn warn(message: fmt::Arguments) {
    emit(format_args!(
        "{} {} {}",
        paint(BOLD, "pyve:"),
        paint(YELLOW, "warning:"),
        safe(message)
    ));
}

/// A step that finished: `✓` on a terminal; silent with `--quiet`.
pub fn done(message: fmt::Arguments) {
    if settings().quiet {
        return;
    }
    if settings().color {
        emit(format_args!("{} {}", paint(GREEN, "✓"), safe(message)));
    } else {
        emit(format_args!("pyve: {}", safe(message)));
    }
}

/// Only with `--verbose`: what pyve is doing in detail.
pub fn debug(message: fmt::Arguments) {
    if settings().verbose {
        emit(format_args!(
            "{} {}",
            paint(DIM, "pyve:"),
            paint(DIM, &safe(message))
        ));
    }
}

/// The error that ends the command, written by `main`.
pub fn error(message: &dyn fmt::Display) {
    emit(format_args!(
        "{} {}",
        paint(RED, "pyve:"),
        safe(format_args!("{message}"))
    ));
}

macro_rules! info {
    ($($arg:tt)*) => { $crate::ui::info(format_args!($($arg)*)) };
}

macro_rules! detail {
    ($($arg:tt)*) => { $crate::ui::detail(format_args!($($arg)*)) };
}

macro_rules! warn {
    ($($arg:tt)*) => { $crate::ui::warn(format_args!($($arg)*)) };
}

macro_rules! done {
    ($($arg:tt)*) => { $crate::ui::done(format_args!($($arg)*)) };
}

macro_rules! debug {
    ($($arg:tt)*) => { $crate::ui::debug(format_args!($($arg)*)) };
}

/// A long step (building an environment, a download): on a terminal, a
/// spinner with the elapsed time until the step is dropped. Elsewhere
/// nothing: the callers' own lines ("creating …", "created … in 812 ms")
/// are what a CI log shows.
pub struct Step {
    what: String,
    started: Instant,
    last_frame: Option<Instant>,
    frame: usize,
    spinner: bool,
}

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

impl Step {
    pub fn start(what: &str) -> Step {
        Step {
            what: what.to_owned(),
            started: Instant::now(),
            last_frame: None,
            frame: 0,
            spinner: settings().spinner,
        }
    }

    /// Redraws the spinner; cheap to call often (it draws every 100 ms).
    pub fn tick(&mut self) {
        if !self.spinner {
            return;
        }
        let now = Instant::now();
        // Nothing for the first 150 ms: a quick step should not flicker.
        if now.duration_since(self.started) < Duration::from_millis(150)
            || self
                .last_frame
                .is_some_and(|last| now.duration_since(last) < Duration::from_millis(100))
        {
            return;
        }
        self.last_frame = Some(now);
        self.frame = (self.frame + 1) % FRAMES.len();
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\r\x1b[2K{} {}… {}",
            paint(BOLD, FRAMES[self.frame]),
            self.what,
            paint(DIM, &seconds(self.started.elapsed()))
        );
        let _ = stderr.flush();
    }
}

impl Drop for Step {
    /// Leaves no spinner behind, whatever ended the step.
    fn drop(&mut self) {
        if self.last_frame.is_some() {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.1}s", elapsed.as_secs_f64())
}
