//! `PYVE_STATE`: the one exported variable that says what pyve applied, so a
//! later run (in this shell or a child) can revert exactly that.
//!
//! Format (version 3): fields separated by `;`, sub-fields of an operation
//! by `=`, every byte outside printable ASCII and the three separators
//! written as `%XX`. The whole value is therefore printable ASCII, whatever
//! the paths.
//!
//! `3;mac;root;project;config-fp;backend;env-dir;env-name;prompt;show;marker-fp;trust-fp;pid;op;op…`
//! where `mac` seals everything after it with the user's key (`seal`),
//! `root` is the project as reached from `$PWD` (what the engine compares
//! cheaply), `project` its real path (what activation exports), and `pid`
//! the shell that applied it (another one inherited it). Ops are `a=ENTRY`
//! (prepended to PATH), `s=NAME=VALUE[=PRIOR]` (set; no PRIOR means it was
//! unset before), `u=NAME=PRIOR` (unset, was PRIOR) and `x=ENV_DIR=VERSION`
//! (the environment's activation scripts ran). Before the ops, a project
//! with its own variables has `v=NAME=TEMPLATE` for each and `f=PATH` for
//! each dotenv file it reads (states without them, from before they
//! existed, still read). Older versions carry no MAC, so they are not read.

use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::seal::{NoKey, Seal};
use super::told::Told;
use crate::config::Source;
use crate::files::owner::Unsafe;
use crate::shell::Shell;
use crate::vars::{self, Vars};
use crate::{digest, pathlist};

const VERSION: &str = "3";

/// The largest state pyve exports. Linux refuses to start any program when
/// one variable passes 128 KiB, so a state near that would break every
/// command in the shell; real states are a few hundred bytes.
pub const MAX_BYTES: usize = 64 << 10;

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
        let mut split = field.split(|&b| b == b'=');
        let kind = split.next().unwrap_or_default();
        // Up to three parts, kept on the stack: this runs for every op at
        // every engine call, and a `Vec` allocated and freed here costs
        // musl's allocator an mmap and a munmap each time.
        let mut parts: [&[u8]; 3] = [&[]; 3];
        let mut count = 0;
        for part in split {
            let Some(slot) = parts.get_mut(count) else {
                return Err(DecodeError("unknown operation"));
            };
            *slot = part;
            count += 1;
        }
        Ok(match (kind, &parts[..count]) {
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
    /// The project's own variables, as templates (`crate::variables`).
    pub variables: Vec<(String, Vec<u8>)>,
    /// The dotenv files they were read from, absolute: their fingerprints
    /// are part of `config_fp`.
    pub dotenv: Vec<Vec<u8>>,
    /// Where the project's settings are.
    pub source: Source,
}

impl Facts {
    pub fn env_dir(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.env_dir))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub facts: Facts,
    /// The shell that applied it; another one inherited it.
    pub pid: u32,
    /// What was applied, in order, with prior values.
    pub ops: Vec<Op>,
}

/// A state as read, with what it needs to be trusted.
#[derive(Debug)]
pub struct Decoded {
    pub state: State,
    pub signature: Signature,
}

/// A state's MAC and the bytes it seals.
#[derive(Debug)]
pub struct Signature {
    mac: String,
    body: Vec<u8>,
}

impl Signature {
    /// Whether this pyve wrote the state for this user.
    pub fn sealed_by(&self, seal: &Seal) -> bool {
        digest::same(&seal.mac(&self.body), &self.mac)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

/// A state of an older format (versions 1 and 2): those carried no seal,
/// so what such a state says cannot be trusted.
pub const OLDER: DecodeError = DecodeError("written by an older pyve, without a seal");

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
    /// The state as exported, sealed with the user's key.
    pub fn encode(&self, seal: &Seal) -> String {
        let body = self.body();
        format!("{VERSION};{};{body}", seal.mac(body.as_bytes()))
    }

    /// Everything but the version and the MAC, which seals it.
    fn body(&self) -> String {
        let facts = &self.facts;
        let mut out = String::with_capacity(256);
        for (i, field) in [
            &facts.root[..],
            &facts.project[..],
            facts.config_fp.as_bytes(),
            facts.backend.as_bytes(),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(';');
            }
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
        out.push_str(&format!(";{}", self.pid));
        if facts.source != Source::Pyve {
            out.push_str(";k=");
            out.push_str(facts.source.tag());
        }
        for (name, template) in &facts.variables {
            out.push_str(";v=");
            escape(&mut out, name.as_bytes());
            out.push('=');
            escape(&mut out, template);
        }
        for file in &facts.dotenv {
            out.push_str(";f=");
            escape(&mut out, file);
        }
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
    /// edited by hand is an error the caller reports. Whether it is to be
    /// trusted is `Decoded::sealed_by`'s to say.
    pub fn decode(text: &[u8]) -> Result<Decoded, DecodeError> {
        let mut parts = text.splitn(3, |&b| b == b';');
        match parts.next() {
            Some(v) if v == VERSION.as_bytes() => {}
            Some(b"1" | b"2") => return Err(OLDER),
            _ => return Err(DecodeError("unknown version")),
        }
        let mac = utf8(parts.next().ok_or(DecodeError("missing field"))?.to_vec())?;
        let body = parts.next().ok_or(DecodeError("missing field"))?;
        let mut fields = body.split(|&b| b == b';');
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
        let trust_fp = utf8(unescape(next()?)?)?;
        let pid = std::str::from_utf8(next()?)
            .ok()
            .and_then(|p| p.parse().ok())
            .ok_or(DecodeError("bad shell pid"))?;
        let absolute = |p: &[u8]| p.first() == Some(&b'/');
        if !absolute(&root) || !absolute(&project) || !absolute(&env_dir) {
            return Err(DecodeError("paths must be absolute"));
        }
        let mut fields = fields.peekable();
        let mut source = Source::Pyve;
        if let Some(field) = fields.next_if(|f| f.starts_with(b"k=")) {
            let tag = std::str::from_utf8(&field[2..]).unwrap_or_default();
            source = Source::from_tag(tag).ok_or(DecodeError("bad settings source"))?;
        }
        let mut variables = Vec::new();
        while let Some(field) = fields.next_if(|f| f.starts_with(b"v=")) {
            let mut parts = field[2..].split(|&b| b == b'=');
            let (Some(name), Some(template), None) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(DecodeError("bad variable"));
            };
            variables.push((utf8(unescape(name)?)?, unescape(template)?));
        }
        let mut dotenv = Vec::new();
        while let Some(field) = fields.next_if(|f| f.starts_with(b"f=")) {
            dotenv.push(unescape(&field[2..])?);
        }
        let ops = fields.map(Op::decode).collect::<Result<_, _>>()?;
        let state = State {
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
                variables,
                dotenv,
                source,
            },
            pid,
            ops,
        };
        Ok(Decoded {
            state,
            signature: Signature {
                mac,
                body: body.to_vec(),
            },
        })
    }
}

impl Op {
    /// Whether this op's effect still holds in the shell whose variables
    /// these are: what it prepended is on PATH, what it set has that value,
    /// what it unset is unset.
    pub fn holds(&self, vars: &dyn Vars) -> bool {
        match self {
            Op::Prepend { entry } => vars
                .bytes(vars::PATH)
                .is_some_and(|path| pathlist::contains(&path, entry)),
            Op::Set { name, value, .. } => vars.bytes(name).as_ref() == Some(value),
            Op::Unset { name, .. } => vars.get(name).is_none(),
            Op::Scripts { .. } => true,
        }
    }
}

/// What the hook applied in the shell these variables come from, as
/// `status` and `doctor` report it.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// No state, or one pyve cannot read.
    Nothing,
    /// This project (its real path): sealed by this user's pyve, and what
    /// it applied still holds.
    Project(PathBuf),
    /// A state this user's pyve did not seal: acted on by nothing.
    Unsealed,
    /// The user's key (or its directory) is one pyve will not use, so no
    /// state can be checked: what is wrong, and the fix.
    NoKey(Unsafe),
    /// Sealed, but the shell undid part of it since (a startup file that
    /// set PATH outright); the next prompt applies it again.
    Undone(PathBuf),
}

/// The one answer to "is this shell's hook showing this project?", for
/// `status` and `doctor` alike.
pub fn applied(vars: &dyn Vars) -> Applied {
    let Some(raw) = vars.non_empty(vars::STATE) else {
        return Applied::Nothing;
    };
    let Ok(decoded) = State::decode(raw.as_bytes()) else {
        return Applied::Nothing;
    };
    let sealed = match Seal::open(vars, false) {
        Ok(seal) => decoded.signature.sealed_by(&seal),
        Err(NoKey::Unusable(problem)) => return Applied::NoKey(problem),
        Err(NoKey::Missing) => false,
    };
    let state = &decoded.state;
    let project = PathBuf::from(OsStr::from_bytes(&state.facts.project));
    if !sealed {
        Applied::Unsealed
    } else if state.ops.iter().all(|op| op.holds(vars)) {
        Applied::Project(project)
    } else {
        Applied::Undone(project)
    }
}

/// What the hook applied in this shell, when this user's pyve sealed it
/// (else nothing): commands compute an activation on top of the shell as
/// it was before pyve (`before_hook`), as the engine does.
pub fn sealed_ops(vars: &dyn Vars) -> Vec<Op> {
    let Some(raw) = vars.non_empty(vars::STATE) else {
        return Vec::new();
    };
    let Ok(decoded) = State::decode(raw.as_bytes()) else {
        return Vec::new();
    };
    match Seal::open(vars, false) {
        Ok(seal) if decoded.signature.sealed_by(&seal) => decoded.state.ops,
        _ => Vec::new(),
    }
}

/// What `name` held before pyve, as far as `applied` (what the hook
/// applied) says and the shell still shows: pyve's value there means the
/// recorded prior; anything else is the shell's own.
pub fn before_hook(vars: &dyn Vars, applied: &[Op], name: &str) -> Option<Vec<u8>> {
    let now = vars.bytes(name);
    for op in applied.iter().rev() {
        match op {
            Op::Set {
                name: n,
                value,
                prior,
            } if n == name && now.as_ref() == Some(value) => return prior.clone(),
            Op::Unset { name: n, prior } if n == name && now.is_none() => {
                return Some(prior.clone())
            }
            _ => {}
        }
    }
    now
}

/// The project the hook applied and still shows, or None.
pub fn applied_project(vars: &dyn Vars) -> Option<PathBuf> {
    match applied(vars) {
        Applied::Project(project) => Some(project),
        _ => None,
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, DecodeError> {
    String::from_utf8(bytes).map_err(|_| DecodeError("not UTF-8 where text is expected"))
}

/// The state this shell carries. Without the record of what was
/// applied, neither reverting nor applying on top can be right: a
/// corrupt one changes nothing and says how to fix it.
pub(super) fn read(
    raw: Option<&OsStr>,
    shell: &dyn Shell,
    told: &mut Told,
    diagnostics: &mut dyn Write,
) -> Result<Option<Decoded>, ()> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    match State::decode(raw.as_bytes()) {
        Ok(state) => Ok(Some(state)),
        Err(e) => {
            let token = format!("state:{}", digest::short(raw.as_bytes())).into_bytes();
            let clear = shell.unset_command(vars::STATE);
            let why = if e == OLDER {
                "was written by an older pyve, whose states carry no seal".to_owned()
            } else {
                format!(
                    "is corrupt ({e}): it was edited by hand or written by an incompatible pyve"
                )
            };
            let line = format!(
                "{} {why}, so pyve cannot tell what it changed in this shell and changes \
                 nothing; open a new terminal, or run `{clear}` and leave and re-enter the \
                 project",
                vars::STATE
            );
            told.tell(token, &[line], diagnostics);
            Err(())
        }
    }
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
                variables: vec![("A_B".into(), b"\0R/x;=%\n\xff\0P".to_vec())],
                dotenv: vec![b"/home/u/my proj/.env;=%".to_vec()],
                source: Source::Pyproject,
            },
            pid: 4242,
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

    fn seal() -> Seal {
        Seal::with_key(b"0123456789abcdef0123456789abcdef")
    }

    fn decode(text: &str) -> State {
        let decoded = State::decode(text.as_bytes()).unwrap();
        assert!(decoded.signature.sealed_by(&seal()));
        decoded.state
    }

    #[test]
    fn round_trips_and_is_printable_ascii() {
        let encoded = sample().encode(&seal());
        assert!(encoded.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
        assert_eq!(decode(&encoded), sample());
    }

    /// A state is acted on only when its MAC is this user's: another key,
    /// or one byte changed anywhere after the MAC, and it is not.
    #[test]
    fn a_changed_byte_or_another_key_breaks_the_seal() {
        let encoded = sample().encode(&seal());
        let other = Seal::with_key(b"another key, another user's seal");
        let decoded = State::decode(encoded.as_bytes()).unwrap();
        assert!(!decoded.signature.sealed_by(&other));
        // Naming BASH_ENV instead of PYVE_BACKEND: well-formed, not sealed.
        let forged = encoded.replacen("s=PYVE_BACKEND=venv", "s=BASH_ENV=venv", 1);
        assert_ne!(forged, encoded);
        let decoded = State::decode(forged.as_bytes()).unwrap();
        assert!(!decoded.signature.sealed_by(&seal()));
        for i in 2..encoded.len() {
            let mut bytes = encoded.clone().into_bytes();
            bytes[i] ^= 1;
            if let Ok(decoded) = State::decode(&bytes) {
                assert!(!decoded.signature.sealed_by(&seal()), "byte {i}");
            }
        }
    }

    #[test]
    fn rejects_older_unsealed_versions_and_garbage() {
        assert!(State::decode(b"").is_err());
        assert!(State::decode(b"3;/a").is_err());
        assert!(State::decode(b"4;x;/a").is_err());
        let unsealed = sample().encode(&seal());
        let (_, body) = unsealed.split_once(';').unwrap();
        let (_, body) = body.split_once(';').unwrap();
        for version in ["1", "2"] {
            let old = format!("{version};{body}");
            assert_eq!(State::decode(old.as_bytes()).unwrap_err(), OLDER);
        }
        let mut bad = unsealed.clone();
        bad.push_str(";s=1BAD=x");
        assert!(State::decode(bad.as_bytes()).is_err());
    }

    #[test]
    fn ops_hold_while_the_shell_still_has_their_effect() {
        use crate::vars::Map;
        let prepend = Op::Prepend {
            entry: b"/x/bin".to_vec(),
        };
        let set = Op::Set {
            name: "VIRTUAL_ENV".into(),
            value: b"/x".to_vec(),
            prior: None,
        };
        let unset = Op::Unset {
            name: "PYTHONHOME".into(),
            prior: b"/usr".to_vec(),
        };
        let applied = Map::default()
            .with(vars::PATH, "/x/bin:/usr/bin")
            .with("VIRTUAL_ENV", "/x");
        assert!([&prepend, &set, &unset].iter().all(|op| op.holds(&applied)));
        let reset = Map::default()
            .with(vars::PATH, "/usr/bin:/bin")
            .with("VIRTUAL_ENV", "/x")
            .with("PYTHONHOME", "/usr");
        assert!(!prepend.holds(&reset));
        assert!(set.holds(&reset));
        assert!(!unset.holds(&reset));
    }

    /// Whether the hook applied a project is read from the real path it
    /// recorded, in a state this user's pyve sealed whose ops still hold;
    /// an empty, unreadable or unsealed state is no state.
    #[test]
    fn the_applied_project_is_the_recorded_real_path() {
        use crate::vars::Map;
        let data = tempfile::tempdir().unwrap();
        let base = Map::default().with("XDG_DATA_HOME", data.path());
        let key = Seal::open(&base, true).unwrap();
        let mut state = sample();
        state.ops.truncate(3);
        let encoded = state.encode(&key);
        let with = |state: &str, path: &str| {
            base.clone()
                .with(vars::STATE, state)
                .with(vars::PATH, path)
                .with("VIRTUAL_ENV", "/x")
                .with("PYVE_BACKEND", "venv")
        };
        assert_eq!(
            applied_project(&with(&encoded, "/x/bin:/bin")),
            Some(PathBuf::from(OsStr::from_bytes(
                b"/data/u/my proj;=%\n\xff"
            )))
        );
        assert_eq!(
            applied(&with(&encoded, "/usr/bin:/bin")),
            Applied::Undone(PathBuf::from(OsStr::from_bytes(
                b"/data/u/my proj;=%\n\xff"
            )))
        );
        assert_eq!(
            applied(&with(&state.encode(&seal()), "/x/bin")),
            Applied::Unsealed
        );
        assert_eq!(applied_project(&with("", "/x/bin")), None);
        assert_eq!(applied_project(&with("3;x", "/x/bin")), None);
        assert_eq!(applied_project(&base), None);
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = State::decode(&bytes);
            let mut prefixed = b"3;0;/".to_vec();
            prefixed.extend_from_slice(&bytes);
            let _ = State::decode(&prefixed);
        }

        #[test]
        fn arbitrary_values_round_trip(root in proptest::collection::vec(any::<u8>(), 0..64),
                                       value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut state = sample();
            state.facts.root = [b"/".to_vec(), root].concat();
            state.ops.push(Op::Set { name: "X".into(), value: value.clone(), prior: Some(value) });
            prop_assert_eq!(decode(&state.encode(&seal())), state);
        }
    }
}
