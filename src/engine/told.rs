//! What this shell was already told, so each problem is told once per
//! shell session: tokens, one per line, oldest first, a bounded number,
//! kept by the shell in a variable between engine runs.

use std::io::Write;

pub struct Told(Vec<Vec<u8>>);

impl Told {
    const MAX: usize = 32;

    pub fn parse(bytes: &[u8]) -> Told {
        Told(
            bytes
                .split(|&b| b == b'\n')
                .filter(|t| !t.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
        )
    }

    pub fn contains(&self, token: &[u8]) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// Tells `lines` unless `token` was told; records it.
    pub fn tell(&mut self, token: Vec<u8>, lines: &[String], diagnostics: &mut dyn Write) {
        if self.contains(&token) {
            return;
        }
        for line in lines {
            let _ = writeln!(diagnostics, "pyve: {}", crate::text::terminal(line));
        }
        if self.0.len() >= Self::MAX {
            self.0.remove(0);
        }
        self.0.push(token);
    }

    pub fn encode(&self) -> Vec<u8> {
        self.0.join(&b'\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_is_told_once_and_the_oldest_forgotten() {
        let mut told = Told::parse(b"a\n\nb");
        let mut out = Vec::new();
        told.tell(b"a".to_vec(), &["again".into()], &mut out);
        assert!(out.is_empty());
        told.tell(b"c".to_vec(), &["new".into()], &mut out);
        assert_eq!(out, b"pyve: new\n");
        assert_eq!(told.encode(), b"a\nb\nc");
        for i in 0..Told::MAX {
            told.tell(format!("t{i}").into_bytes(), &[], &mut out);
        }
        assert!(!told.contains(b"a"));
        assert_eq!(told.0.len(), Told::MAX);
    }
}
