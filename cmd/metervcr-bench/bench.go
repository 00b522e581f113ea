package main

import (
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
)

// bench runs the measurements of one invocation.
type bench struct {
	opts      options
	bin, self string // the metervcr binary, and this driver's (for the baseline)
	dir       string // work directory: cassettes, CA, server logs
	serverCPU string
	out       io.Writer

	cassettes map[int]string // size → path
	rows      []*row

	// Set by prepareTLS when -tls is on.
	certFile, keyFile string      // the TLS baseline's self-signed certificate and key
	bareTLS           *tls.Config // client side, trusting that certificate
	forwardTLS        *tls.Config // client side, trusting only metervcr's CA
}

// row is one server measured in one round.
type row struct {
	round  int
	server string
	file   int64 // cassette bytes, 0 when none
	res    *result
	rss    int64
	ready  time.Duration
	cpu    time.Duration // CPU time of the server (not of an upstream) under load
	base   *row          // baseline of the same round
}

// serverEnv is given to every metervcr process: the placeholder key the
// cassettes were generated with, and AWS credentials that record uses to
// re-sign (the baseline upstream checks nothing).
func (b *bench) serverEnv() []string {
	return []string{
		"METERVCR_REDACTION_KEY=" + benchKey,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(b.dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(b.dir, "no-aws-credentials"),
	}
}

func (b *bench) run() error {
	// The first start creates the CA in the state directory; later starts,
	// the ones measured, load it as a user's would.
	if _, err := b.measure(0, "warm-up", nil, 0, b.replayArgs(""), plain); err != nil {
		return err
	}
	b.rows = b.rows[:0]
	if b.opts.tls {
		if err := b.prepareTLS(); err != nil {
			return err
		}
	}
	for round := 1; round <= b.opts.rounds; round++ {
		if err := b.round(round); err != nil {
			return err
		}
	}
	b.print()
	return nil
}

// generatorVersion names the generated cassettes in the cache; change it
// whenever generate writes something else.
const generatorVersion = 1

// generateAll returns the paths of cassettes of every size in dir,
// generating those not there yet.
func generateAll(dir string, sizes []int, out io.Writer) (map[int]string, error) {
	key, err := hex.DecodeString(benchKey)
	if err != nil {
		return nil, err
	}
	r, err := redact.New(key, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths := map[int]string{}
	for _, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("v%d-%d.yaml", generatorVersion, n))
		paths[n] = path
		if _, err := os.Stat(path); err == nil {
			continue
		}
		t := time.Now()
		tmp := path + ".tmp"
		if err := generate(tmp, n, r); err != nil {
			return nil, fmt.Errorf("generating a cassette of %d interactions: %w", n, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "generated %d interactions in %v\n", n, time.Since(t).Round(time.Millisecond))
	}
	return paths, nil
}

func (b *bench) replayArgs(cassette string) []string {
	args := append([]string{b.bin, "replay", "--ca-dir", filepath.Join(b.dir, "ca")}, b.opts.extra...)
	if cassette != "" {
		args = append(args, "--cassette", cassette)
	}
	return args
}

// round measures every server once, the baseline first.
func (b *bench) round(round int) error {
	base, err := b.measure(round, "bare net/http", nil, b.opts.sizes[0], []string{b.self, "baseline"}, plain)
	if err != nil {
		return err
	}
	for _, n := range b.opts.sizes {
		r, err := b.measure(round, fmt.Sprintf("replay %d", n), base, n, b.replayArgs(b.cassettes[n]), plain)
		if err != nil {
			return err
		}
		if st, err := os.Stat(b.cassettes[n]); err == nil {
			r.file = st.Size()
		}
	}
	if b.opts.tls {
		if err := b.measureForward(round); err != nil {
			return err
		}
	}
	if b.opts.record {
		if err := b.measureRecord(round, base); err != nil {
			return err
		}
	}
	_, err = b.measure(round, "replay demo (ready only)", base, 0, b.replayArgs(""), plain)
	return err
}

// measure starts argv listening on a free port, drives it through the
// endpoint that reach returns for that port with requests for a cassette
// of size interactions (none when size is 0), and records a row.
func (b *bench) measure(round int, name string, base *row, size int, argv []string, reach func(addr string) endpoint) (*row, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if argv[0] == b.self {
		argv = slices.Insert(argv, 2, addr) // metervcr-bench baseline[-tls] ADDR ...
	} else {
		argv = append(argv, "--listen", addr)
	}
	p, err := start(argv, b.serverEnv(), b.serverCPU, addr, filepath.Join(b.dir, "server.log"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer p.stop()
	r := &row{round: round, server: name, ready: p.ready, base: base}
	if size > 0 {
		cpu0, err := p.cpuTime()
		if err != nil {
			return nil, err
		}
		res, err := drive(reach(addr), size, b.opts.conns, b.opts.duration)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cpu1, err := p.cpuTime()
		if err != nil {
			return nil, err
		}
		r.cpu = cpu1 - cpu0
		if res.failures > 0 {
			return nil, fmt.Errorf("%s: %d of %d requests failed; see %s", name, res.failures, res.requests, filepath.Join(b.dir, "server.log"))
		}
		r.res = &res
	}
	if r.rss, err = p.peakRSS(); err != nil {
		return nil, err
	}
	b.rows = append(b.rows, r)
	return r, nil
}

// measureRecord measures metervcr record in front of a baseline server
// used as the upstream; both share the servers' CPU, and the ratio is to
// the same load sent to that upstream directly, which the round's baseline
// row is.
func (b *bench) measureRecord(round int, base *row) error {
	upAddr, err := freeAddr()
	if err != nil {
		return err
	}
	up, err := start([]string{b.self, "baseline", upAddr}, nil, b.serverCPU, upAddr, filepath.Join(b.dir, "upstream.log"))
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	defer up.stop()
	cassette := filepath.Join(b.dir, fmt.Sprintf("recorded-%d.yaml", round))
	defer os.Remove(cassette)
	_, err = b.measure(round, "record (proxy + upstream)", base, b.opts.sizes[0], []string{
		b.bin, "record", "--fresh", "--cassette", cassette, "--upstream", "http://" + upAddr,
		"--ca-dir", filepath.Join(b.dir, "ca"),
	}, plain)
	return err
}

// Names of the rows of target 5.
const bareTLSName = "bare net/http TLS"

func forwardName(size int) string { return fmt.Sprintf("replay %d forward TLS", size) }

// prepareTLS writes the TLS baseline's certificate into the work directory
// and builds the client configurations of both TLS rows. It runs after the
// warm-up, which created metervcr's CA.
func (b *bench) prepareTLS() error {
	b.certFile, b.keyFile = filepath.Join(b.dir, "baseline-cert.pem"), filepath.Join(b.dir, "baseline-key.pem")
	if err := selfSigned(b.certFile, b.keyFile, "127.0.0.1"); err != nil {
		return fmt.Errorf("baseline certificate: %w", err)
	}
	var err error
	if b.bareTLS, err = clientTLS(b.certFile, "127.0.0.1"); err != nil {
		return err
	}
	// ca.pem is proxy.CACertFile, named here so that the driver, and the
	// baseline it runs, do not link the proxy and its dependencies.
	b.forwardTLS, err = clientTLS(filepath.Join(b.dir, "ca", "ca.pem"), metering.Host("us-east-1"))
	return err
}

// measureForward measures the baseline server over HTTPS, then metervcr
// replay of the first cassette in forward-proxy mode: each connection sends
// CONNECT for the Metering host, then runs TLS with the proxy's minted
// certificate inside the tunnel and keeps it alive for many requests, as
// an application with HTTPS_PROXY does. The replay row's ratios are to the
// TLS baseline of the same round.
func (b *bench) measureForward(round int) error {
	bare, err := b.measure(round, bareTLSName, nil, b.opts.sizes[0], []string{b.self, "baseline-tls", b.certFile, b.keyFile},
		func(addr string) endpoint {
			return endpoint{addr: addr, tls: b.bareTLS, host: addr}
		})
	if err != nil {
		return err
	}
	n := b.opts.sizes[0]
	host := metering.Host("us-east-1")
	r, err := b.measure(round, forwardName(n), bare, n, b.replayArgs(b.cassettes[n]),
		func(addr string) endpoint {
			return endpoint{addr: addr, connect: net.JoinHostPort(host, "443"), tls: b.forwardTLS, host: host}
		})
	if err != nil {
		return err
	}
	if st, err := os.Stat(b.cassettes[n]); err == nil {
		r.file = st.Size()
	}
	return nil
}
