//! `pyve doctor`: every check that can explain why a project's environment
//! is not what the user expects, each with one command that fixes it.
//! Exit 0 with warnings at most, 1 with an error.

mod checks;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::error::{user, Error};
use crate::health::{Finding, Status};
use crate::json::string as json_string;
use crate::vars;

pub fn run(json_output: bool) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let cwd = super::current_dir(vars)?;
    let found = super::find_root(vars, &cwd);
    let root = found
        .as_ref()
        .map(|f| std::fs::canonicalize(&f.root).unwrap_or_else(|_| f.root.clone()));
    let findings = match (&root, &found) {
        (Some(root), Some(found)) => checks::project(vars, root, found.source),
        _ => vec![Finding::error(
            "config",
            format!(
                "no pyve project in {} or above (no .pyve/config)",
                cwd.display()
            ),
            "pyve init",
        )],
    };
    let failed = findings.iter().any(Finding::is_error);
    let mut stdout = std::io::stdout().lock();
    let written = if json_output {
        stdout.write_all(json(root.as_deref(), &findings).as_bytes())
    } else {
        drop(stdout);
        report(&findings);
        Ok(())
    };
    written.map_err(|e| user(format!("cannot write the report: {e}")))?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn report(findings: &[Finding]) {
    let mut stderr = std::io::stderr().lock();
    for finding in findings {
        // Padded before it is painted, so the columns line up either way.
        let word = format!("{:<8}", finding.status.as_str());
        let word = match finding.status {
            Status::Ok => crate::ui::green(&word),
            Status::Warning => crate::ui::yellow(&word),
            Status::Error => crate::ui::red(&word),
        };
        // What a finding names may come from the repository.
        let message = crate::text::terminal(&finding.message);
        let _ = writeln!(stderr, "{word} {:<12} {message}", finding.check);
        if let (Some(fix), true) = (&finding.fix, finding.status != Status::Ok) {
            let _ = writeln!(stderr, "{:<21} fix: {}", "", crate::text::terminal(fix));
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.status == Status::Warning)
        .count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        stderr,
        "pyve: {}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
}

/// One JSON object; written by hand to keep serde_json out of the binary.
fn json(root: Option<&Path>, findings: &[Finding]) -> String {
    let mut out = String::from("{\"project\":");
    match root {
        Some(root) => json_string(&mut out, &root.to_string_lossy()),
        None => out.push_str("null"),
    }
    let ok = !findings.iter().any(Finding::is_error);
    out.push_str(&format!(",\"ok\":{ok},\"checks\":["));
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"check\":");
        json_string(&mut out, finding.check);
        out.push_str(",\"status\":");
        json_string(&mut out, finding.status.as_str());
        out.push_str(",\"message\":");
        json_string(&mut out, &finding.message);
        out.push_str(",\"fix\":");
        match &finding.fix {
            Some(fix) if finding.status != Status::Ok => json_string(&mut out, fix),
            _ => out.push_str("null"),
        }
        out.push('}');
    }
    out.push_str("]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_shapes() {
        let findings = vec![
            Finding::ok("config", "a \"b\"\n"),
            Finding::error("python", "c\\d\u{1}", "pyve init --force"),
        ];
        let text = json(Some(Path::new("/p")), &findings);
        assert_eq!(
            text,
            "{\"project\":\"/p\",\"ok\":false,\"checks\":[\
             {\"check\":\"config\",\"status\":\"ok\",\"message\":\"a \\\"b\\\"\\n\",\"fix\":null},\
             {\"check\":\"python\",\"status\":\"error\",\"message\":\"c\\\\d\\u0001\",\"fix\":\"pyve init --force\"}]}\n"
        );
    }
}
