//! Questions on the terminal. Without one, nothing is ever asked: callers
//! need `--yes` instead, so CI never hangs on a prompt.

use std::io::{BufRead, IsTerminal, Write};

/// Whether a person can answer: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks a yes/no question on stderr; no is the default. `yes` answers it.
pub fn confirm(question: &str, yes: bool) -> bool {
    let question = crate::text::terminal(question);
    let mut stderr = std::io::stderr().lock();
    if yes {
        let _ = writeln!(stderr, "pyve: {question} yes (--yes)");
        return true;
    }
    let _ = write!(stderr, "pyve: {question} [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Asks a yes/no question on stderr whose default is yes (`[Y/n]`): only
/// an explicit no stops.
pub fn confirm_default_yes(question: &str) -> bool {
    let question = crate::text::terminal(question);
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "pyve: {question} [Y/n] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    !matches!(answer.trim().to_ascii_lowercase().as_str(), "n" | "no")
}
