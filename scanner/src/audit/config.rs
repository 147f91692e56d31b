//! sshd_config as sshd reads it: keyword and arguments per line, `Include` (with globs) expanded
//! in place, `Match` blocks kept apart. Every line keeps its file and number for the report.
use std::fmt;
use std::path::{Path, PathBuf};

/// Largest configuration file read.
const MAX_FILE: u64 = 1024 * 1024;
/// Deepest Include nesting.
const MAX_DEPTH: usize = 16;
/// Most files one configuration may include.
const MAX_FILES: usize = 256;

/// Why a configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// File.
    pub file: String,
    /// Line (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// One directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// File it is in.
    pub file: String,
    /// Line number (1-based).
    pub line: usize,
    /// Keyword, lower case.
    pub keyword: String,
    /// Arguments, unquoted.
    pub args: Vec<String>,
}

/// The directives of the global section or of one Match block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    /// The Match criteria and where they are; None for the global section.
    pub condition: Option<(String, usize, String)>,
    /// Directives in the order sshd reads them.
    pub directives: Vec<Directive>,
}

impl Block {
    /// The first directive with this keyword (sshd keeps the first value it reads).
    pub fn first(&self, keyword: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.keyword == keyword)
    }

    /// Later directives with this keyword, which sshd ignores.
    pub fn ignored<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Directive> {
        self.directives
            .iter()
            .filter(move |d| d.keyword == keyword)
            .skip(1)
    }

    /// Every directive with this keyword (for directives that accumulate, such as HostKey).
    pub fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Directive> {
        self.directives.iter().filter(move |d| d.keyword == keyword)
    }
}

/// A parsed configuration: the global section first, then each Match block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Global section and Match blocks.
    pub blocks: Vec<Block>,
}

/// Splits a line into words: white space separates, `=` may separate keyword and value, double
/// quotes group.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut have = false;
    for (i, c) in text.chars().enumerate() {
        match c {
            '"' => {
                quoted = !quoted;
                have = true;
            }
            c if !quoted && (c.is_whitespace() || (c == '=' && out.is_empty() && i > 0)) => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                cur.push(c);
                have = true;
            }
        }
    }
    if quoted {
        return Err("unterminated quote".to_owned());
    }
    if have {
        out.push(cur);
    }
    Ok(out)
}

struct Reader {
    base: PathBuf,
    files: usize,
    blocks: Vec<Block>,
}

impl Reader {
    fn read(&mut self, path: &Path, depth: usize, in_match: bool) -> Result<(), ConfigError> {
        let name = path.display().to_string();
        let err = |line: usize, message: String| ConfigError {
            file: name.clone(),
            line,
            message,
        };
        if depth > MAX_DEPTH {
            return Err(err(
                0,
                format!("Include nested more than {MAX_DEPTH} deep (a loop?)"),
            ));
        }
        self.files += 1;
        if self.files > MAX_FILES {
            return Err(err(0, format!("more than {MAX_FILES} files included")));
        }
        let meta = std::fs::metadata(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
        if meta.len() > MAX_FILE {
            return Err(err(0, format!("larger than {MAX_FILE} bytes")));
        }
        let bytes = std::fs::read(path).map_err(|e| err(0, format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| err(0, "not UTF-8 text".to_owned()))?;
        let blocks_before = self.blocks.len();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let w = words(trimmed).map_err(|m| err(line, m))?;
            let Some((keyword, args)) = w.split_first() else {
                continue;
            };
            let keyword = keyword.to_ascii_lowercase();
            if args.is_empty() {
                return Err(err(line, format!("{keyword} has no value")));
            }
            match keyword.as_str() {
                "match" => {
                    self.blocks.push(Block {
                        condition: Some((name.clone(), line, args.join(" "))),
                        directives: Vec::new(),
                    });
                }
                "include" => {
                    for pattern in args {
                        for file in self.expand(pattern).map_err(|m| err(line, m))? {
                            let inside_match =
                                self.blocks.last().is_some_and(|b| b.condition.is_some());
                            self.read(&file, depth + 1, inside_match)?;
                        }
                    }
                }
                _ => {
                    let directive = Directive {
                        file: name.clone(),
                        line,
                        keyword,
                        args: args.to_vec(),
                    };
                    if let Some(block) = self.blocks.last_mut() {
                        block.directives.push(directive);
                    }
                }
            }
        }
        // A Match block opened in an included file ends with that file.
        if depth > 0 && self.blocks.len() > blocks_before && !in_match {
            self.blocks.push(Block {
                condition: None,
                directives: Vec::new(),
            });
        }
        Ok(())
    }

    /// Files an Include pattern names: absolute, or relative to the audited file's directory;
    /// `*` and `?` in the file name, matching files sorted by name as sshd does.
    fn expand(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let full = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            self.base.join(pattern)
        };
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.contains(['*', '?']) {
            return if full.exists() {
                Ok(vec![full])
            } else {
                Err(format!("Include {pattern}: no such file"))
            };
        }
        let dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.file_name().is_some_and(|n| {
                        fipsgate_cipher_db::policy::glob(&name, &n.to_string_lossy())
                    })
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

/// Reads a configuration file and everything it includes.
pub fn read(path: &Path) -> Result<Config, ConfigError> {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut reader = Reader {
        base,
        files: 0,
        blocks: vec![Block::default()],
    };
    reader.read(path, 0, false)?;
    // The global section may continue after an included file's Match block: merge those parts.
    let mut config = Config::default();
    for block in reader.blocks {
        match (&block.condition, config.blocks.first_mut()) {
            (None, Some(global)) => global.directives.extend(block.directives),
            _ => config.blocks.push(block),
        }
    }
    Ok(config)
}

/// Parses `sshd -T` output: one lower-case keyword and its value per line, all global.
pub fn from_sshd_t(text: &str, source: &str) -> Config {
    let directives = text
        .lines()
        .enumerate()
        .filter_map(|(n, l)| {
            let (k, v) = l.split_once(' ')?;
            Some(Directive {
                file: source.to_owned(),
                line: n + 1,
                keyword: k.to_owned(),
                args: vec![v.trim().to_owned()],
            })
        })
        .collect();
    Config {
        blocks: vec![Block {
            condition: None,
            directives,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_sshd() {
        assert_eq!(
            words("Ciphers aes128-ctr,aes256-ctr"),
            Ok(vec!["Ciphers".into(), "aes128-ctr,aes256-ctr".into()])
        );
        assert_eq!(
            words("Ciphers=aes128-ctr"),
            Ok(vec!["Ciphers".into(), "aes128-ctr".into()])
        );
        assert_eq!(
            words("Banner \"/etc/my banner\""),
            Ok(vec!["Banner".into(), "/etc/my banner".into()])
        );
        assert!(words("Banner \"open").is_err());
    }
}
