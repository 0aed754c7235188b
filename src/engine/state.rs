//! `PYVE_STATE`: the one exported variable that says what pyve applied, so a
//! later run (in this shell or a child) can revert exactly that.
//!
//! Format (version 2; version 1, without `trust-fp`, is still read): fields separated by `;`, sub-fields of an operation by
//! `=`, every byte outside printable ASCII and the three separators written as
//! `%XX`. The whole value is therefore printable ASCII, whatever the paths.
//!
//! `2;root;project;config-fp;backend;env-dir;env-name;prompt;show;marker-fp;trust-fp;op;op…`
//! where `root` is the project as reached from `$PWD` (what the engine
//! compares cheaply) and `project` its real path (what activation exports).
//! with ops `a=ENTRY` (prepended to PATH), `s=NAME=VALUE[=PRIOR]` (set; no
//! PRIOR means it was unset before), `u=NAME=PRIOR` (unset, was PRIOR) and
//! `x=ENV_DIR=VERSION` (the environment's activation scripts ran).

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::vars::{self, Vars};

const VERSION: &str = "2";

/// The largest state pyve exports. Linux refuses to start any program when
/// one variable passes 128 KiB, so a state near that would break every
/// command in the shell; real states are a few hundred bytes.
pub const MAX_BYTES: usize = 64 << 10;
/// Version 1 had no trust fingerprint; it is still read, so a shell that
/// outlives an upgrade reverts what the older pyve applied.
const VERSION_1: &str = "1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Prepend {
        entry: Vec<u8>,
    },
    Set {
        name: String,
        value: Vec<u8>,
        prior: Option<Vec<u8>>,
    },
    Unset {
        name: String,
        prior: Vec<u8>,
    },
    /// The environment's activation scripts were sourced; its deactivation
    /// scripts are due on leaving. `version` is the marker's fingerprint, so
    /// a rebuilt environment is deactivated and activated again.
    Scripts {
        env_dir: Vec<u8>,
        version: String,
    },
}

impl Op {
    /// One `kind=part=…` field of the state.
    fn decode(field: &[u8]) -> Result<Op, DecodeError> {
        let mut parts = field.split(|&b| b == b'=');
        let kind = parts.next().unwrap_or_default();
        let parts: Vec<&[u8]> = parts.collect();
        Ok(match (kind, parts.as_slice()) {
            (b"a", [entry]) => Op::Prepend {
                entry: unescape(entry)?,
            },
            (b"s", [name, value]) => Op::Set {
                name: unescape_name(name)?,
                value: unescape(value)?,
                prior: None,
            },
            (b"s", [name, value, prior]) => Op::Set {
                name: unescape_name(name)?,
                value: unescape(value)?,
                prior: Some(unescape(prior)?),
            },
            (b"u", [name, prior]) => Op::Unset {
                name: unescape_name(name)?,
                prior: unescape(prior)?,
            },
            (b"x", [env_dir, version]) => {
                let env_dir = unescape(env_dir)?;
                if env_dir.first() != Some(&b'/') {
                    return Err(DecodeError("paths must be absolute"));
                }
                Op::Scripts {
                    env_dir,
                    version: utf8(unescape(version)?)?,
                }
            }
            _ => return Err(DecodeError("unknown operation")),
        })
    }

    /// Whether `self` (already applied) has the effect `other` would have,
    /// priors aside: such an op is kept in place instead of redone.
    pub fn same_effect(&self, other: &Op) -> bool {
        match (self, other) {
            (Op::Prepend { entry: a }, Op::Prepend { entry: b }) => a == b,
            (
                Op::Set {
                    name: a, value: x, ..
                },
                Op::Set {
                    name: b, value: y, ..
                },
            ) => a == b && x == y,
            (Op::Unset { name: a, .. }, Op::Unset { name: b, .. }) => a == b,
            (a @ Op::Scripts { .. }, b @ Op::Scripts { .. }) => a == b,
            _ => false,
        }
    }
}

/// What was decided for the project: enough to recompute its activation
/// without reading its config again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub root: Vec<u8>,
    pub project: Vec<u8>,
    pub config_fp: String,
    pub backend: String,
    pub env_dir: Vec<u8>,
    pub env_name: Vec<u8>,
    pub prompt: Vec<u8>,
    pub show_prompt: bool,
    pub marker_fp: String,
    /// The fingerprint of the project's approval record when this was
    /// decided: another one means the approval must be checked again.
    pub trust_fp: String,
}

impl Facts {
    pub fn env_dir(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.env_dir))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub facts: Facts,
    /// What was applied, in order, with prior values.
    pub ops: Vec<Op>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn escape(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_graphic() && !matches!(b, b'%' | b';' | b'=') || b == b' ' {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        }
    }
}

fn unescape(text: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .ok_or(DecodeError("truncated %-escape"))?;
            let digit = |c: u8| (c as char).to_digit(16).ok_or(DecodeError("bad %-escape"));
            out.push((digit(hex[0])? << 4 | digit(hex[1])?) as u8);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn unescape_name(text: &[u8]) -> Result<String, DecodeError> {
    let name = unescape(text)?;
    let valid = !name.is_empty()
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        && !name[0].is_ascii_digit();
    if !valid {
        return Err(DecodeError("invalid variable name"));
    }
    String::from_utf8(name).map_err(|_| DecodeError("invalid variable name"))
}

impl State {
    pub fn encode(&self) -> String {
        let facts = &self.facts;
        let mut out = String::with_capacity(256);
        out.push_str(VERSION);
        for field in [
            &facts.root[..],
            &facts.project[..],
            facts.config_fp.as_bytes(),
            facts.backend.as_bytes(),
        ] {
            out.push(';');
            escape(&mut out, field);
        }
        for field in [&facts.env_dir[..], &facts.env_name[..], &facts.prompt[..]] {
            out.push(';');
            escape(&mut out, field);
        }
        out.push_str(if facts.show_prompt { ";1;" } else { ";0;" });
        escape(&mut out, facts.marker_fp.as_bytes());
        out.push(';');
        escape(&mut out, facts.trust_fp.as_bytes());
        for op in &self.ops {
            out.push(';');
            match op {
                Op::Prepend { entry } => {
                    out.push_str("a=");
                    escape(&mut out, entry);
                }
                Op::Set { name, value, prior } => {
                    out.push_str("s=");
                    escape(&mut out, name.as_bytes());
                    out.push('=');
                    escape(&mut out, value);
                    if let Some(prior) = prior {
                        out.push('=');
                        escape(&mut out, prior);
                    }
                }
                Op::Unset { name, prior } => {
                    out.push_str("u=");
                    escape(&mut out, name.as_bytes());
                    out.push('=');
                    escape(&mut out, prior);
                }
                Op::Scripts { env_dir, version } => {
                    out.push_str("x=");
                    escape(&mut out, env_dir);
                    out.push('=');
                    escape(&mut out, version.as_bytes());
                }
            }
        }
        out
    }

    /// Decodes any bytes without panicking; a value from another version or
    /// edited by hand is an error the caller reports.
    pub fn decode(text: &[u8]) -> Result<State, DecodeError> {
        let mut fields = text.split(|&b| b == b';');
        let version_1 = match fields.next() {
            Some(v) if v == VERSION.as_bytes() => false,
            Some(v) if v == VERSION_1.as_bytes() => true,
            _ => return Err(DecodeError("unknown version")),
        };
        let mut next = || fields.next().ok_or(DecodeError("missing field"));
        let root = unescape(next()?)?;
        let project = unescape(next()?)?;
        let config_fp = utf8(unescape(next()?)?)?;
        let backend = utf8(unescape(next()?)?)?;
        let env_dir = unescape(next()?)?;
        let env_name = unescape(next()?)?;
        let prompt = unescape(next()?)?;
        let show_prompt = match next()? {
            b"1" => true,
            b"0" => false,
            _ => return Err(DecodeError("bad prompt flag")),
        };
        let marker_fp = utf8(unescape(next()?)?)?;
        // Never equal to a real fingerprint: the approval is checked again.
        let trust_fp = if version_1 {
            String::new()
        } else {
            utf8(unescape(next()?)?)?
        };
        let absolute = |p: &[u8]| p.first() == Some(&b'/');
        if !absolute(&root) || !absolute(&project) || !absolute(&env_dir) {
            return Err(DecodeError("paths must be absolute"));
        }
        let ops = fields.map(Op::decode).collect::<Result<_, _>>()?;
        Ok(State {
            facts: Facts {
                root,
                project,
                config_fp,
                backend,
                env_dir,
                env_name,
                prompt,
                show_prompt,
                marker_fp,
                trust_fp,
            },
            ops,
        })
    }
}

/// The project the hook applied in the shell these variables come from
/// (its real path), or None when that shell has no state pyve can read.
/// The one answer to "is this shell's hook showing this project?", for
/// `status` and `doctor` alike.
pub fn applied_project(vars: &dyn Vars) -> Option<PathBuf> {
    let raw = vars.non_empty(vars::STATE)?;
    let state = State::decode(raw.as_bytes()).ok()?;
    Some(PathBuf::from(OsStr::from_bytes(&state.facts.project)))
}

fn utf8(bytes: Vec<u8>) -> Result<String, DecodeError> {
    String::from_utf8(bytes).map_err(|_| DecodeError("not UTF-8 where text is expected"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> State {
        State {
            facts: Facts {
                root: b"/home/u/my proj;=%\n\xff".to_vec(),
                project: b"/data/u/my proj;=%\n\xff".to_vec(),
                config_fp: "1.2.3".into(),
                backend: "venv".into(),
                env_dir: b"/home/u/my proj/.venv".to_vec(),
                env_name: b"my proj".to_vec(),
                prompt: b"(venv:my proj)".to_vec(),
                show_prompt: true,
                marker_fp: "-".into(),
                trust_fp: "1.2.3.4".into(),
            },
            ops: vec![
                Op::Prepend {
                    entry: b"/x/bin".to_vec(),
                },
                Op::Set {
                    name: "VIRTUAL_ENV".into(),
                    value: b"/x".to_vec(),
                    prior: Some(Vec::new()),
                },
                Op::Set {
                    name: "PYVE_BACKEND".into(),
                    value: b"venv".to_vec(),
                    prior: None,
                },
                Op::Unset {
                    name: "PYTHONHOME".into(),
                    prior: b"/usr".to_vec(),
                },
                Op::Scripts {
                    env_dir: b"/p/.pyve/envs/my=env;".to_vec(),
                    version: "1.2.3".into(),
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_is_printable_ascii() {
        let encoded = sample().encode();
        assert!(encoded.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
        assert_eq!(State::decode(encoded.as_bytes()).unwrap(), sample());
    }

    #[test]
    fn reads_version_1_without_the_trust_fingerprint() {
        let encoded = sample().encode();
        let old = encoded
            .replacen("2;", "1;", 1)
            .replacen(";-;1.2.3.4;", ";-;", 1);
        let state = State::decode(old.as_bytes()).unwrap();
        assert_eq!(state.facts.trust_fp, "");
        assert_eq!(state.ops, sample().ops);
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        assert!(State::decode(b"").is_err());
        assert!(State::decode(b"3;/a").is_err());
        assert!(State::decode(b"2;/a").is_err());
        let mut bad = sample().encode();
        bad.push_str(";s=1BAD=x");
        assert!(State::decode(bad.as_bytes()).is_err());
    }

    /// Whether the hook applied a project is read from the real path it
    /// recorded; an empty or unreadable state is no state.
    #[test]
    fn the_applied_project_is_the_recorded_real_path() {
        use crate::vars::Map;
        let state = sample().encode();
        let vars = Map::default().with(vars::STATE, &state);
        assert_eq!(
            applied_project(&vars),
            Some(PathBuf::from(OsStr::from_bytes(
                b"/data/u/my proj;=%\n\xff"
            )))
        );
        assert_eq!(applied_project(&Map::default().with(vars::STATE, "")), None);
        assert_eq!(
            applied_project(&Map::default().with(vars::STATE, "2;x")),
            None
        );
        assert_eq!(applied_project(&Map::default()), None);
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = State::decode(&bytes);
            let mut prefixed = b"1;/".to_vec();
            prefixed.extend_from_slice(&bytes);
            let _ = State::decode(&prefixed);
        }

        #[test]
        fn arbitrary_values_round_trip(root in proptest::collection::vec(any::<u8>(), 0..64),
                                       value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut state = sample();
            state.facts.root = [b"/".to_vec(), root].concat();
            state.ops.push(Op::Set { name: "X".into(), value: value.clone(), prior: Some(value) });
            prop_assert_eq!(State::decode(state.encode().as_bytes()).unwrap(), state);
        }
    }
}
