// Command metervcr-bench measures the metervcr binary against a bare
// net/http server under the same load, as make bench runs it.
//
// It generates cassettes of several sizes as recording writes them, then,
// in interleaved rounds, starts the baseline server, metervcr replay on
// each cassette, the baseline server over HTTPS, metervcr replay of the
// first cassette in forward-proxy mode, metervcr record in front of the
// baseline, and metervcr replay of the built-in demo cassette, one at a
// time. Each server but the demo is driven by conns keep-alive connections
// sending signed-looking MeterUsage requests for a fixed duration. One
// table reports requests per second, median and 99th percentile latency,
// peak RSS (VmHWM), the time from start until the port answers, and each
// as a ratio to the baseline of the same round. With two or more CPUs and
// taskset on the PATH, servers run on CPU 0 and the load generator on
// CPU 1.
//
// The forward-proxy row (target 5) is measured against the baseline over
// TLS, with a self-signed ECDSA P-256 certificate that the driver writes
// into its work directory. Each of its connections sends CONNECT for
// metering.marketplace.us-east-1.amazonaws.com:443, runs TLS inside the
// tunnel trusting only ca.pem of metervcr's --ca-dir, and then sends the
// same requests as the other rows, kept alive inside the tunnel. For both
// TLS rows a connection's handshake counts in its first request's latency
// and in the run's time; -tls=false skips them.
//
// Usage:
//
//	metervcr-bench [-bin bin/metervcr] [-duration 5s] [-rounds 2] [-conns 16] [-sizes 10,1000,100000] [-record=false] [-tls=false] [-keep] [-replay-flags FLAGS]
//	metervcr-bench baseline ADDR
//	metervcr-bench baseline-tls ADDR CERT KEY
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// pinnedEnv marks a driver already running on the load generator's CPU
// and holds the servers' CPU list.
const pinnedEnv = "METERVCR_BENCH_PINNED"

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "baseline":
		err = baseline(os.Args[2], "", "")
	case len(os.Args) == 5 && os.Args[1] == "baseline-tls":
		err = baseline(os.Args[2], os.Args[3], os.Args[4])
	default:
		if err := run(os.Args[1:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "metervcr-bench:", err)
			os.Exit(1)
		}
		return
	}
	// The baseline serves until it is killed: returning is a failure.
	fmt.Fprintf(os.Stderr, "metervcr-bench %s: %v\n", os.Args[1], err)
	os.Exit(1)
}

// options are the driver's flags.
type options struct {
	bin      string
	duration time.Duration
	rounds   int
	conns    int
	sizes    []int
	record   bool
	tls      bool
	cache    string
	keep     bool
	extra    []string // more flags for every metervcr replay
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("metervcr-bench", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "bin/metervcr", "metervcr binary to measure")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "load duration of each server in each round")
	fs.IntVar(&o.rounds, "rounds", 2, "interleaved rounds")
	fs.IntVar(&o.conns, "conns", 16, "concurrent keep-alive connections")
	sizes := fs.String("sizes", "10,1000,100000", "interactions per generated cassette, comma-separated; the first is the reference of flatness")
	fs.BoolVar(&o.record, "record", true, "also measure recording in front of the baseline server")
	fs.BoolVar(&o.tls, "tls", true, "also measure forward-proxy replay over TLS against the baseline server over TLS")
	fs.StringVar(&o.cache, "cache", "bin/bench-cassettes", "directory of generated cassettes, reused by later runs")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (cassettes, server logs) and print its path")
	extra := fs.String("replay-flags", "", `more flags for every metervcr replay, space-separated (e.g. "--aws-checks off --log-level warn")`)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.extra = strings.Fields(*extra)
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-sizes: %q is not a positive count", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.rounds < 1 || o.conns < 1 || o.duration <= 0 {
		return o, fmt.Errorf("-rounds, -conns and -duration must be positive")
	}
	return o, nil
}

// cpus returns the CPU lists for the servers and for the load generator,
// or "" for both when pinning is not possible.
func cpus() (server, load string) {
	if runtime.NumCPU() < 2 {
		return "", ""
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", ""
	}
	return "0", "1"
}

func run(args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	// Cassettes are generated before pinning, on every CPU.
	paths, err := generateAll(o.cache, o.sizes, stdout)
	if err != nil {
		return err
	}
	serverCPU, loadCPU := cpus()
	if pinned := os.Getenv(pinnedEnv); pinned != "" {
		serverCPU = pinned
	} else if loadCPU != "" {
		// Run again on the load generator's CPU, so that it and the
		// servers never share one. The child sees one CPU, so it is told
		// the servers'.
		cmd := exec.Command("taskset", append([]string{"-c", loadCPU, os.Args[0]}, args...)...)
		cmd.Env = append(os.Environ(), pinnedEnv+"="+serverCPU)
		cmd.Stdout, cmd.Stderr = stdout, os.Stderr
		return cmd.Run()
	}
	if _, err := os.Stat(o.bin); err != nil {
		return fmt.Errorf("%w; build it first: make build", err)
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "metervcr-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stdout, "work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{opts: o, bin: bin, self: self, dir: dir, serverCPU: serverCPU, out: stdout, cassettes: paths}
	return b.run()
}
