//! Turns the CSV tables in data/ into static Rust arrays, so bad data fails the build, not a scan.
use std::{env, fmt::Write as _, fs, path::Path};

fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn rows(name: &str, columns: usize) -> Vec<Vec<String>> {
    let path = Path::new("data").join(name);
    println!("cargo:rerun-if-changed={}", path.display());
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let header = lines
        .next()
        .map(|(_, l)| split_csv_line(l))
        .unwrap_or_default();
    assert_eq!(
        header.len(),
        columns,
        "{name}: header has {} columns",
        header.len()
    );
    lines
        .map(|(n, l)| {
            let f = split_csv_line(l);
            assert_eq!(
                f.len(),
                columns,
                "{name}:{}: {} fields, want {columns}",
                n + 1,
                f.len()
            );
            f
        })
        .collect()
}

fn hex(s: &str, what: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("bad code {s:?} in {what}"))
}

fn num(s: &str) -> u32 {
    if s.is_empty() {
        0
    } else {
        s.parse().unwrap_or_else(|_| panic!("bad number {s:?}"))
    }
}

fn main() {
    let mut out = String::new();
    let versions = ["ssl3", "tls1.0", "tls1.1", "tls1.2", "tls1.3"];

    out.push_str("pub(crate) static CIPHER_SUITES: &[CipherSuite] = &[\n");
    for f in rows("tls-suites.csv", 13) {
        assert!(
            versions.contains(&f[10].as_str()),
            "min_version {:?} of {}",
            f[10],
            f[1]
        );
        assert!(
            matches!(f[12].as_str(), "iana" | "unofficial"),
            "registry of {}",
            f[1]
        );
        writeln!(
            out,
            "    CipherSuite {{ code: 0x{:04X}, iana: {:?}, openssl: {:?}, kx: {:?}, auth: {:?}, enc: {:?}, bits: {}, mode: {:?}, mac: {:?}, prf: {:?}, min_version: {:?}, export_bits: {}, iana_registered: {} }},",
            hex(&f[0], &f[1]), f[1], f[2], f[3], f[4], f[5], num(&f[6]), f[7], f[8], f[9], f[10], num(&f[11]), f[12] == "iana"
        )
        .ok();
    }
    out.push_str("];\n");

    out.push_str("pub(crate) static SSLV2_CIPHERS: &[Sslv2Cipher] = &[\n");
    for f in rows("sslv2-ciphers.csv", 8) {
        writeln!(
            out,
            "    Sslv2Cipher {{ code: 0x{:06X}, name: {:?}, openssl: {:?}, enc: {:?}, bits: {}, mode: {:?}, mac: {:?}, export_bits: {} }},",
            hex(&f[0], &f[1]), f[1], f[2], f[3], num(&f[4]), f[5], f[6], num(&f[7])
        )
        .ok();
    }
    out.push_str("];\n");

    out.push_str("pub(crate) static NAMED_GROUPS: &[NamedGroup] = &[\n");
    for f in rows("tls-groups.csv", 5) {
        let aliases: Vec<&str> = f[4].split(';').filter(|a| !a.is_empty()).collect();
        writeln!(
            out,
            "    NamedGroup {{ code: 0x{:04X}, name: {:?}, family: {:?}, bits: {}, aliases: &{:?} }},",
            hex(&f[0], &f[1]), f[1], f[2], num(&f[3]), aliases
        )
        .ok();
    }
    out.push_str("];\n");

    out.push_str("pub(crate) static SIGNATURE_SCHEMES: &[SignatureScheme] = &[\n");
    for f in rows("tls-signature-schemes.csv", 5) {
        writeln!(
            out,
            "    SignatureScheme {{ code: 0x{:04X}, name: {:?}, sig: {:?}, hash: {:?}, curve: {:?} }},",
            hex(&f[0], &f[1]), f[1], f[2], f[3], f[4]
        )
        .ok();
    }
    out.push_str("];\n");

    out.push_str("pub(crate) static SSH_ALGORITHMS: &[SshAlgorithm] = &[\n");
    for f in rows("ssh-algorithms.csv", 8) {
        let kind = match f[0].as_str() {
            "ssh-kex" => "SshKind::Kex",
            "ssh-hostkey" => "SshKind::HostKey",
            "ssh-cipher" => "SshKind::Cipher",
            "ssh-mac" => "SshKind::Mac",
            "ssh-compression" => "SshKind::Compression",
            other => panic!("ssh kind {other:?}"),
        };
        let flags: Vec<&str> = f[7].split(';').filter(|a| !a.is_empty()).collect();
        writeln!(
            out,
            "    SshAlgorithm {{ kind: {kind}, name: {:?}, family: {:?}, param: {:?}, hash: {:?}, bits: {}, mode: {:?}, flags: &{:?} }},",
            f[1], f[2], f[3], f[4], num(&f[5]), f[6], flags
        )
        .ok();
    }
    out.push_str("];\n");

    out.push_str("pub(crate) static DH_GROUPS: &[DhGroup] = &[\n");
    for f in rows("dh-groups.csv", 3) {
        let hex = f[2].as_bytes();
        assert!(
            hex.len() % 2 == 0 && hex.iter().all(u8::is_ascii_hexdigit),
            "prime of {}",
            f[0]
        );
        let bytes: Vec<u8> = hex
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap_or("00"), 16).unwrap_or(0))
            .collect();
        assert_eq!(bytes.len() * 8, num(&f[1]) as usize, "bits of {}", f[0]);
        writeln!(
            out,
            "    DhGroup {{ name: {:?}, bits: {}, prime: &{:?} }},",
            f[0],
            num(&f[1]),
            bytes
        )
        .ok();
    }
    out.push_str("];\n");

    out.push_str("pub(crate) static SOURCES: &[Source] = &[\n");
    for f in rows("sources.csv", 2) {
        writeln!(
            out,
            "    Source {{ id: {:?}, document: {:?} }},",
            f[0], f[1]
        )
        .ok();
    }
    out.push_str("];\n");

    let dest = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("tables.rs");
    fs::write(dest, out).expect("write tables.rs");
}
