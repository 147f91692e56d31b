// A TLS server on Go's crypto/tls (standard library only), for fipsgate's interop tests.
// Flags set its versions, TLS 1.0-1.2 suites, curves and the signature schemes its key may sign
// with. Before serving it prints one JSON line: what this configuration accepts, from crypto/tls
// itself (the tests' ground truth).
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

var versionNames = map[string]uint16{
	"tls1.0": tls.VersionTLS10, "tls1.1": tls.VersionTLS11,
	"tls1.2": tls.VersionTLS12, "tls1.3": tls.VersionTLS13,
}

var curveNames = map[string]tls.CurveID{
	"x25519": tls.X25519, "secp256r1": tls.CurveP256,
	"secp384r1": tls.CurveP384, "secp521r1": tls.CurveP521,
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

// hexCodes reads a flag's comma-separated hex codes (suites, signature schemes).
func hexCodes(list, what string) []uint16 {
	// nil, not empty, when none are given: crypto/tls reads nil as "its defaults".
	var codes []uint16
	for _, s := range strings.Split(list, ",") {
		if s == "" {
			continue
		}
		code, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
		if err != nil {
			fail("%s %q: %v", what, s, err)
		}
		codes = append(codes, uint16(code))
	}
	return codes
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address")
	cert := flag.String("cert", "", "PEM certificate chain")
	key := flag.String("key", "", "PEM private key")
	minV := flag.String("min", "tls1.2", "lowest version")
	maxV := flag.String("max", "tls1.3", "highest version")
	suites := flag.String("suites", "", "TLS 1.0-1.2 suites, comma-separated hex codes")
	curves := flag.String("curves", "", "curves, comma-separated (x25519, secp256r1 ...)")
	sigalgs := flag.String("sigalgs", "", "signature schemes the key may sign with, comma-separated hex codes")
	flag.Parse()

	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fail("key pair: %v", err)
	}
	for _, code := range hexCodes(*sigalgs, "signature scheme") {
		pair.SupportedSignatureAlgorithms = append(pair.SupportedSignatureAlgorithms, tls.SignatureScheme(code))
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   versionNames[*minV],
		MaxVersion:   versionNames[*maxV],
	}
	if cfg.MinVersion == 0 || cfg.MaxVersion == 0 {
		fail("unknown version %q or %q", *minV, *maxV)
	}
	cfg.CipherSuites = hexCodes(*suites, "suite")
	for _, c := range strings.Split(*curves, ",") {
		if c == "" {
			continue
		}
		id, ok := curveNames[c]
		if !ok {
			fail("unknown curve %q", c)
		}
		cfg.CurvePreferences = append(cfg.CurvePreferences, id)
	}

	// Ground truth from crypto/tls: every version in range; the configured suites (or Go's
	// defaults) for each version they support; TLS 1.3's fixed suites; the curves.
	truth := map[string]interface{}{}
	versions := map[string][]string{}
	for name, v := range versionNames {
		if v < cfg.MinVersion || v > cfg.MaxVersion {
			continue
		}
		list := []string{}
		for _, s := range tls.CipherSuites() {
			usable := false
			for _, sv := range s.SupportedVersions {
				usable = usable || sv == v
			}
			configured := v == tls.VersionTLS13 || len(cfg.CipherSuites) == 0
			for _, c := range cfg.CipherSuites {
				configured = configured || c == s.ID
			}
			if usable && configured {
				list = append(list, fmt.Sprintf("0x%04X", s.ID))
			}
		}
		versions[name] = list
	}
	truth["versions"] = versions
	groups := []string{}
	for name, id := range curveNames {
		for _, c := range cfg.CurvePreferences {
			if c == id {
				groups = append(groups, name)
			}
		}
	}
	truth["groups"] = groups
	schemes := []string{}
	for _, s := range pair.SupportedSignatureAlgorithms {
		schemes = append(schemes, fmt.Sprintf("0x%04X", uint16(s)))
	}
	truth["signature_schemes"] = schemes

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("listen: %v", err)
	}
	truth["port"] = ln.Addr().(*net.TCPAddr).Port
	line, _ := json.Marshal(truth)
	fmt.Println(string(line))
	os.Stdout.Sync()
	for {
		conn, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			t := tls.Server(c, cfg)
			if t.Handshake() == nil {
				t.Write([]byte("hello from Go\n"))
			}
		}(conn)
	}
}
