#!/usr/bin/env python3
"""Regenerates tls-suites.csv and sslv2-ciphers.csv.

Inputs: the IANA registry (../shared/reference/iana-tls-cipher-suites.csv) for codes and IANA
names; the installed OpenSSL (`openssl ciphers -V`) for OpenSSL names; testssl.sh's
cipher-mapping.txt (Debian package testssl.sh) for OpenSSL names that OpenSSL 3 no longer builds
and for widely deployed codes that IANA never assigned. Components are parsed from the names.
The CSVs are the maintained data; this script is how they were first made.
"""
import csv, re, subprocess, sys, pathlib

here = pathlib.Path(__file__).resolve().parent
iana_csv = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parents[3] / "shared/reference/iana-tls-cipher-suites.csv"
mapping = pathlib.Path("/etc/testssl/cipher-mapping.txt")

def code_of(hexpair):
    b = [int(x, 16) for x in hexpair.split(",")]
    v = 0
    for x in b:
        v = (v << 8) | x
    return v

ossl = {}
out = subprocess.run(["openssl", "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], capture_output=True, text=True).stdout
for line in out.splitlines():
    f = line.split()
    ossl[code_of(f[0])] = f[2]

testssl = {}
v2specs = {}
for line in mapping.read_text().splitlines():
    f = line.split()
    if len(f) < 5:
        continue
    if len(f[0].split(",")) == 3:
        v2specs[code_of(f[0])] = (f[2], f[3])
    else:
        testssl[code_of(f[0])] = (f[2], f[3], f[4], False)

KX = {
    "NULL": ("NULL", "NULL"), "RSA": ("RSA", "RSA"), "RSA_EXPORT": ("RSA", "RSA"), "RSA_EXPORT1024": ("RSA", "RSA"),
    "RSA_FIPS": ("RSA", "RSA"),
    "DH_DSS": ("DH", "DSS"), "DH_DSS_EXPORT": ("DH", "DSS"), "DH_RSA": ("DH", "RSA"), "DH_RSA_EXPORT": ("DH", "RSA"),
    "DHE_DSS": ("DHE", "DSS"), "DHE_DSS_EXPORT": ("DHE", "DSS"), "DHE_DSS_EXPORT1024": ("DHE", "DSS"),
    "DHE_RSA": ("DHE", "RSA"), "DHE_RSA_EXPORT": ("DHE", "RSA"),
    "DH_anon": ("DHE", "anon"), "DH_anon_EXPORT": ("DHE", "anon"),
    "KRB5": ("KRB5", "KRB5"), "KRB5_EXPORT": ("KRB5", "KRB5"),
    "PSK": ("PSK", "PSK"), "DHE_PSK": ("DHE_PSK", "PSK"), "PSK_DHE": ("DHE_PSK", "PSK"), "RSA_PSK": ("RSA_PSK", "RSA"), "ECDHE_PSK": ("ECDHE_PSK", "PSK"),
    "ECDH_ECDSA": ("ECDH", "ECDSA"), "ECDHE_ECDSA": ("ECDHE", "ECDSA"), "ECDH_RSA": ("ECDH", "RSA"),
    "ECDHE_RSA": ("ECDHE", "RSA"), "ECDH_anon": ("ECDHE", "anon"),
    "SRP_SHA": ("SRP", "SRP"), "SRP_SHA_RSA": ("SRP", "RSA"), "SRP_SHA_DSS": ("SRP", "DSS"),
    "ECCPWD": ("ECCPWD", "ECCPWD"), "GOSTR341112_256": ("GOST", "GOST"), "GOSTR341094": ("GOST", "GOST"),
    "GOSTR341001": ("GOST", "GOST"), "GOSTR341094_RSA": ("GOST", "RSA"),
    "CECPQ1_RSA": ("CECPQ1", "RSA"), "CECPQ1_ECDSA": ("CECPQ1", "ECDSA"),
}
# (name pattern, enc, bits, mode); longest first
CIPHERS = [
    ("NULL", "NULL", 0, "NONE"),
    ("RC4_40", "RC4", 40, "STREAM"), ("RC4_56", "RC4", 56, "STREAM"), ("RC4_128", "RC4", 128, "STREAM"),
    ("RC2_CBC_40", "RC2", 40, "CBC"), ("RC2_CBC_56", "RC2", 56, "CBC"), ("RC2_56", "RC2", 56, "CBC"), ("RC2_CBC_128", "RC2", 128, "CBC"),
    ("IDEA_CBC_40", "IDEA", 40, "CBC"), ("IDEA_CBC", "IDEA", 128, "CBC"),
    ("DES40_CBC", "DES", 40, "CBC"), ("DES_CBC_40", "DES", 40, "CBC"), ("DES_CBC", "DES", 56, "CBC"),
    ("3DES_EDE_CBC", "3DES", 168, "CBC"),
    ("SEED_CBC", "SEED", 128, "CBC"),
    ("CHACHA20_POLY1305", "CHACHA20", 256, "POLY1305"),
    ("28147_CNT", "GOST28147", 256, "CNT"), ("KUZNYECHIK_CTR", "KUZNYECHIK", 256, "CTR"),
    ("MAGMA_CTR", "MAGMA", 256, "CTR"), ("KUZNYECHIK_MGM", "KUZNYECHIK", 256, "MGM"), ("MAGMA_MGM", "MAGMA", 256, "MGM"),
    ("GOST28147", "GOST28147", 256, "CNT"),
]
for fam in ("AES", "CAMELLIA", "ARIA"):
    for bits in (128, 256):
        for mode in ("CCM_8", "CBC", "GCM", "CCM"):
            CIPHERS.append((f"{fam}_{bits}_{mode}", fam, bits, mode))

def parse_classic(name):
    m = re.match(r"^(?:TLS|SSL)_(.+?)_WITH_(.+)$", name)
    kxname, rest = m.group(1), m.group(2)
    kx, auth = KX[kxname]
    export = "40" if kxname.endswith("_EXPORT") else ("56" if kxname.endswith("EXPORT1024") else "")
    for pat, enc, bits, mode in sorted(CIPHERS, key=lambda c: -len(c[0])):
        if rest == pat or rest.startswith(pat + "_"):
            tail = rest[len(pat):].lstrip("_").removesuffix("_OLD")
            break
    else:
        raise SystemExit(f"cipher of {name}?")
    if "EXPORT" in kxname and enc != "NULL" and bits > 56:
        bits = int(export)  # RC4_40 etc. are explicit, but RSA_EXPORT_WITH_RC4_40 gives 40 anyway
    aead = mode in ("GCM", "CCM", "CCM_8", "POLY1305", "MGM")
    macs = {"SHA": "SHA1", "MD5": "MD5", "SHA256": "SHA256", "SHA384": "SHA384", "NULL": "NULL",
            "OMAC": "OMAC", "IMIT": "IMIT", "GOSTR3411": "GOSTR3411", "GOST94": "GOSTR3411", "GOST89": "GOST28147-IMIT", "L": "", "S": "", "": ""}
    if tail not in macs:
        raise SystemExit(f"mac of {name}: {tail!r}")
    mac = "AEAD" if aead else macs[tail]
    prf = tail if tail in ("SHA256", "SHA384") else ""
    if aead and not prf and mode.startswith("CCM"):
        prf = "SHA256"
    if enc in ("KUZNYECHIK", "MAGMA", "GOST28147") and kx == "GOST":
        prf = "STREEBOG256" if kxname == "GOSTR341112_256" else "GOSTR3411"
        if mode == "MGM":
            mac = "AEAD"
        elif tail == "OMAC":
            mac = "OMAC"
        elif tail == "IMIT":
            mac = "IMIT"
    if name.endswith("_MGM_L") or name.endswith("_MGM_S"):
        mode = "MGM_" + name[-1]
        kx, auth = "ANY", "ANY"  # RFC 9367: TLS 1.3 suites
    return kx, auth, enc, bits, mode, mac, prf, export

def parse_tls13(name):
    table = {
        "TLS_AES_128_GCM_SHA256": ("AES", 128, "GCM", "SHA256"), "TLS_AES_256_GCM_SHA384": ("AES", 256, "GCM", "SHA384"),
        "TLS_CHACHA20_POLY1305_SHA256": ("CHACHA20", 256, "POLY1305", "SHA256"),
        "TLS_AES_128_CCM_SHA256": ("AES", 128, "CCM", "SHA256"), "TLS_AES_128_CCM_8_SHA256": ("AES", 128, "CCM_8", "SHA256"),
        "TLS_AEGIS_256_SHA384": ("AEGIS", 256, "AEGIS", "SHA384"), "TLS_AEGIS_128L_SHA256": ("AEGIS", 128, "AEGIS", "SHA256"),
        "TLS_SM4_GCM_SM3": ("SM4", 128, "GCM", "SM3"), "TLS_SM4_CCM_SM3": ("SM4", 128, "CCM", "SM3"),
        "TLS_SHA256_SHA256": ("NULL", 0, "NONE", "SHA256"), "TLS_SHA384_SHA384": ("NULL", 0, "NONE", "SHA384"),
    }
    enc, bits, mode, prf = table[name]
    mac = "HMAC-" + prf if enc == "NULL" else "AEAD"
    return "ANY", "ANY", enc, bits, mode, mac, prf, ""

def min_version(code, name, mode, mac, prf, tls13):
    if tls13 or "_MGM_" in name:
        return "tls1.3"
    if name.startswith("TLS_GOSTR341112_256_") or name.startswith("TLS_ECCPWD_"):
        return "tls1.2"
    ts = testssl.get(code)
    if ts and not ts[3]:
        v = ts[2]
        return {"SSLv3": "ssl3", "TLSv1": "tls1.0", "TLSv1.2": "tls1.2"}.get(v, "tls1.0")
    if mode in ("GCM", "CCM", "CCM_8", "POLY1305") or prf in ("SHA256", "SHA384"):
        return "tls1.2"
    return "tls1.0"

rows = []
seen = set()
for r in csv.DictReader(open(iana_csv)):
    name = r["Description"].strip()
    if not name.startswith("TLS_"):
        continue
    code = code_of(r["Value"])
    seen.add(code)
    rows.append((code, name, "iana"))
for code, (oname, tname, ver, v2) in testssl.items():
    if v2 or code in seen or tname == "-":
        continue
    if code in (0xFFE0, 0xFFE1):
        tname += "_OLD"  # Netscape's first codes for the same suites as 0xFEFE/0xFEFF
    rows.append((code, tname, "unofficial"))
rows.sort()

out = [["code", "iana", "openssl", "kx", "auth", "enc", "bits", "mode", "mac", "prf", "min_version", "export", "registry"]]
for code, name, reg in rows:
    if name.endswith("_SCSV"):
        continue  # signalling values live in tls.rs, not among suites
    tls13 = "_WITH_" not in name
    if tls13:
        kx, auth, enc, bits, mode, mac, prf, export = parse_tls13(name)
    else:
        kx, auth, enc, bits, mode, mac, prf, export = parse_classic(name)
    onm = ossl.get(code) or (testssl[code][0] if code in testssl and testssl[code][0] != "-" else "")
    if tls13:
        onm = name if code in ossl else ""
    out.append([f"0x{code:04X}", name, onm, kx, auth, enc, str(bits), mode, mac, prf,
                min_version(code, name, mode, mac, prf, tls13), export, reg])

dest = here.parent / "tls-suites.csv"
with open(dest, "w", newline="") as f:
    f.write("# Every TLS cipher suite fipsgate knows. Generated first by tools/gen_tls_suites.py, maintained by hand.\n")
    f.write("# kx/auth ANY = TLS 1.3 (negotiated separately). mac AEAD = integrity from the cipher mode. prf empty = version default.\n")
    csv.writer(f, lineterminator="\n").writerows(out)

v2 = [["code", "name", "openssl", "enc", "bits", "mode", "mac", "export"]]
for code, (oname, tname) in sorted(v2specs.items()):
    if tname in ("SSL_CK_NULL",) or oname.startswith("DES-CFB"):
        continue
    m = re.match(r"SSL_CK_(.+)_WITH_(MD5|SHA)$", tname)
    body, mac = m.group(1), {"MD5": "MD5", "SHA": "SHA1"}[m.group(2)]
    export = "40" if "EXPORT40" in body else ""
    enc, bits, mode = {
        "RC4_128": ("RC4", 128, "STREAM"), "RC4_128_EXPORT40": ("RC4", 40, "STREAM"), "RC4_64": ("RC4", 64, "STREAM"),
        "RC2_128_CBC": ("RC2", 128, "CBC"), "RC2_128_CBC_EXPORT40": ("RC2", 40, "CBC"),
        "IDEA_128_CBC": ("IDEA", 128, "CBC"), "DES_64_CBC": ("DES", 56, "CBC"), "DES_192_EDE3_CBC": ("3DES", 168, "CBC"),
        "NULL": ("NULL", 0, "NONE"),
    }[body]
    v2.append([f"0x{code:06X}", tname, oname, enc, str(bits), mode, mac, export])
with open(here.parent / "sslv2-ciphers.csv", "w", newline="") as f:
    f.write("# SSL 2.0 cipher specs (3-byte codes). Key exchange and authentication are always RSA.\n")
    csv.writer(f, lineterminator="\n").writerows(v2)
print(len(out) - 1, "suites,", len(v2) - 1, "sslv2 specs")
