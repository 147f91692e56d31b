# Parsers of each tool's output, shared by the bench/ scripts (sourced, not run).
# TLS parsers print "version code" lines (version tls1.2/tls1.3, code 0xC02F); SSH parsers print
# "kexalgorithms a,b", "ciphers …", "macs …" and "fp SHA256:…" lines. parse_tls_nmap and
# parse_tls_sslyze need $FIPSGATE and $WORK (they map suite names to codes with `fipsgate db`).

parse_tls_fipsgate() { python3 -c '
import json,sys
for line in sys.stdin:
    e=json.loads(line)
    for v in (e.get("tls") or {}).get("versions",[]):
        for s in v["cipher_suites"]: print(v["version"], s["code"])'; }

parse_tls_sslscan() { python3 -c '
import sys,re
ver={"TLSv1.2":"tls1.2","TLSv1.3":"tls1.3","TLSv1.1":"tls1.1","TLSv1.0":"tls1.0","SSLv3":"ssl3"}
for m in re.finditer(r"<cipher status=\"(?:preferred|accepted)\" sslversion=\"([^\"]+)\"[^>]* id=\"0x([0-9a-fA-F]+)\"", sys.stdin.read()):
    print(ver.get(m.group(1),m.group(1)), "0x"+m.group(2).upper().zfill(4))'; }

# IANA suite names to codes, from fipsgate's own table.
suite_names() { [ -s "$WORK/db.json" ] || "$FIPSGATE" db list --kind tls-suite --format json > "$WORK/db.json"; }

parse_tls_nmap() { suite_names; python3 -c '
import sys,re,json
names={x["name"]:x["code"] for x in json.load(open(sys.argv[1]))}
alias={"TLS_AKE_WITH_"+n[4:]:c for n,c in names.items()}
ver=None
for line in sys.stdin:
    m=re.search(r"\|\s+(TLSv1\.[0-3]|SSLv3):", line)
    if m: ver={"TLSv1.0":"tls1.0","TLSv1.1":"tls1.1","TLSv1.2":"tls1.2","TLSv1.3":"tls1.3","SSLv3":"ssl3"}[m.group(1)]
    m=re.search(r"\|\s+(TLS_[A-Z0-9_]+)", line)
    if m and ver:
        n=m.group(1); c=names.get(n) or alias.get(n)
        if c: print(ver, c)' "$WORK/db.json"; }

# sslyze's --json_out file ($1).
parse_tls_sslyze() { suite_names; python3 -c '
import sys,json
names={x["name"]:x["code"] for x in json.load(open(sys.argv[2]))}
try: data=json.load(open(sys.argv[1]))
except Exception: data={}
keys={"ssl_3_0":"ssl3","tls_1_0":"tls1.0","tls_1_1":"tls1.1","tls_1_2":"tls1.2","tls_1_3":"tls1.3"}
for r in data.get("server_scan_results",[]):
    for k,v in keys.items():
        res=((r.get("scan_result") or {}).get(k+"_cipher_suites") or {}).get("result") or {}
        for s in res.get("accepted_cipher_suites",[]):
            c=names.get(s["cipher_suite"]["name"])
            if c: print(v, c)' "$1" "$WORK/db.json"; }

# testssl.sh's --jsonfile ($1): -e lists each suite once without its version, so codes alone.
parse_tls_testssl() { python3 -c '
import sys,json
try: data=json.load(open(sys.argv[1]))
except Exception: data=[]
items=data if isinstance(data,list) else data.get("scanResult",[{}])[0].get("cipherTests",[])
for f in items:
    i=f.get("id","")
    if i.startswith("cipher_x"):
        print("0x"+i.split("_x")[1].upper().zfill(4))' "$1"; }

parse_ssh_fipsgate() { python3 -c '
import json,sys
for line in sys.stdin:
    e=json.loads(line)
    if e.get("type")!="endpoint": continue
    s=e.get("ssh") or {}
    print("kexalgorithms", ",".join(s.get("kex",[])))
    print("ciphers", ",".join(s.get("ciphers_client_to_server",[])))
    print("macs", ",".join(s.get("macs_client_to_server",[])))
    for f in sorted(k["fingerprint_sha256"] for k in s.get("host_keys",[])): print("fp", f)'; }

parse_ssh_audit() { python3 -c '
import json,sys
markers={"ext-info-s","kex-strict-s-v00@openssh.com","kexguess2@matt.ucc.asn.au"}
try: d=json.load(sys.stdin)
except Exception: d={}
print("kexalgorithms", ",".join(a["algorithm"] for a in d.get("kex",[]) if a["algorithm"] not in markers))
print("ciphers", ",".join(a["algorithm"] for a in d.get("enc",[])))
print("macs", ",".join(a["algorithm"] for a in d.get("mac",[])))
for f in sorted({"SHA256:"+f["hash"] for f in d.get("fingerprints",[]) if f.get("hash_alg")=="SHA256"}): print("fp", f)'; }
