#!/usr/bin/env python3
"""Writes a fleet-sized NDJSON scan made of copies of a real one: endpoint i is the real scan's
endpoint i mod n, moved to its own address in 10.0.0.0/8 (never scanned: the file is only
rendered) and, so that certificates and host keys do not repeat as they would not in a real
fleet, given its own fingerprints and subject. The scan_end line is counted again.

usage: fleet_copies.py REAL.ndjson COUNT > FLEET.ndjson
"""
import hashlib
import json
import sys


def main():
    real, count = sys.argv[1], int(sys.argv[2])
    lines = [json.loads(line) for line in open(real) if line.strip()]
    begin = next(l for l in lines if l["type"] == "scan_begin")
    end = next(l for l in lines if l["type"] == "scan_end")
    endpoints = [l for l in lines if l["type"] == "endpoint"]
    out = sys.stdout
    out.write(json.dumps(begin) + "\n")
    errors = 0
    counts = {v["policy"]: {"fips_only": 0, "fips_capable": 0, "not_fips_capable": 0} for v in end["verdicts"]}
    for i in range(count):
        e = json.loads(json.dumps(endpoints[i % len(endpoints)]))
        ip = "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
        e["target"]["host"] = ip
        e["target"]["ip"] = ip
        own = lambda s: hashlib.sha256(("%d %s" % (i, s)).encode()).hexdigest()
        for c in (e.get("tls") or {}).get("certificates", []):
            for cert in c["chain"]:
                cert["sha256"] = own(cert["sha256"])
            if c["chain"]:
                c["chain"][0]["subject"] = "CN=host-%d.example" % i
        for k in (e.get("ssh") or {}).get("host_keys", []):
            k["fingerprint_sha256"] = "SHA256:" + own(k["fingerprint_sha256"])[:43]
        if e["status"] != "ok":
            errors += 1
        for v in e["verdicts"]:
            counts[v["policy"]][v["verdict"].replace("-", "_")] += 1
        out.write(json.dumps(e, separators=(",", ":")) + "\n")
    end["endpoints"] = count
    end["errors"] = errors
    end["verdicts"] = [dict(policy=p, **c) for p, c in counts.items()]
    out.write(json.dumps(end) + "\n")


if __name__ == "__main__":
    main()
