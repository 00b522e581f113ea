package main

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

func TestInterspersed(t *testing.T) {
	t.Parallel()
	app := newApp(io.Discard, io.Discard, serveConfig{})
	tests := []struct {
		name string
		args string
		want string
	}{
		{"flags after the path", "replay x.yaml --listen A --strict", "replay --listen A --strict -- x.yaml"},
		{"flags on both sides", "replay --listen A x.yaml --strict", "replay --listen A --strict -- x.yaml"},
		{"value after =", "replay x --listen=A --strict=false", "replay --listen=A --strict=false -- x"},
		{"a value that looks like a flag", "replay --listen --strict x", "replay --listen --strict -- x"},
		{"single-dash long flag", "replay x -listen A", "replay -listen A -- x"},
		{"after -- everything is positional", "replay --strict -- --listen A", "replay --strict -- --listen A"},
		{"a lone dash is positional", "inspect - --format json", "inspect --format json -- -"},
		{"short flag with a value", "convert a.yaml -o b.yaml --format-version 2", "convert -o b.yaml --format-version 2 -- a.yaml"},
		{"help flag after the path", "replay x.yaml -h", "replay -h -- x.yaml"},
		{"subcommand", "ca init --ca-dir D", "ca init --ca-dir D"},
		{"help COMMAND", "help replay", "replay --help"},
		{"help of a subcommand", "help ca init", "ca init --help"},
		{"help alone", "help", "help"},
		{"root flag", "--version", "--version"},
		{"no positional", "replay --strict", "replay --strict"},
		{"completion passes unchanged", "replay x --log --generate-bash-completion", "replay x --log --generate-bash-completion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := interspersed(app, append([]string{"metervcr"}, strings.Fields(tt.args)...))
			if err != nil {
				t.Fatalf("interspersed(%q): %v", tt.args, err)
			}
			if g := strings.Join(got[1:], " "); g != tt.want {
				t.Errorf("interspersed(%q) = %q, want %q", tt.args, g, tt.want)
			}
		})
	}
}

func TestInterspersedRefuses(t *testing.T) {
	t.Parallel()
	app := newApp(io.Discard, io.Discard, serveConfig{})
	tests := []struct {
		name string
		args string
		want string // the error's first line
	}{
		{"mistyped command", "replya x.yaml", `unknown command "replya"; did you mean replay?`},
		{"command with nothing close", "xyzzy", `unknown command "xyzzy"`},
		{"mistyped subcommand", "ca inti", `unknown command "inti" for ca; did you mean init?`},
		{"mistyped help topic", "help inspetc", `unknown command "inspetc"; did you mean inspect?`},
		{"mistyped flag", "replay --stric", "unknown flag --stric for replay; did you mean --strict?"},
		{"mistyped flag with a value", "inspect x --formt=json", "unknown flag --formt for inspect; did you mean --format?"},
		{"flag of another command", "record x --strict", "unknown flag --strict for record"},
		{"mistyped root flag", "--verison", "unknown flag --verison; did you mean --version?"},
		{"flag without its value", "replay x --listen", "--listen needs a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := interspersed(app, append([]string{"metervcr"}, strings.Fields(tt.args)...))
			if err == nil {
				t.Fatalf("interspersed(%q) succeeded, want %q", tt.args, tt.want)
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); first != tt.want {
				t.Errorf("interspersed(%q) error %q, want first line %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"replay", "replay", 0},
		{"replya", "replay", 1}, // a swap is one slip
		{"stric", "strict", 1},
		{"recrod", "record", 1},
		{"", "ca", 2},
		{"mock", "diff", 4},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

// TestCommandLine runs command lines as people type them and checks the
// exit code and the first line they print. Serving commands run with a
// context that has already ended: they start, print their banner, and shut
// down at once, as after Ctrl-C.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	demo, err := os.ReadFile("../../cassettes/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := func(name string) string { return filepath.Join(dir, name) }
	for _, name := range []string{"metering.yaml", "old.yml"} {
		if err := os.WriteFile(in(name), demo, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(in("sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	state := in("state")
	if _, err := redact.LoadKey(state, true); err != nil { // no "no redaction key" line
		t.Fatal(err)
	}
	// Process substitution: the shell passes <(...) as /dev/fd/N, a pipe.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() {
		pw.Write(demo)
		pw.Close()
	}()
	piped := "/dev/fd/" + strconv.Itoa(int(pr.Fd()))
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, version, _ := runApp(t, "version")

	serving := []string{"--listen", "127.0.0.1:0", "--ca-dir", state}
	replaying := func(path string) string {
		return "metervcr: replaying " + regexp.QuoteMeta(path) + ` on http://127\.0\.0\.1:\d+`
	}
	const summary = "metervcr: replay summary: "
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout bool   // the first line is stdout's; else stderr's
		first  string // regular expression the whole first line matches
		also   string // the output also holds this, when set
		not    string // the output does not hold this, when set
	}{
		{"path before flags", append([]string{"replay", in("metering.yaml")}, serving...), 0, false, replaying(in("metering.yaml")), summary, ""},
		{"path after flags", []string{"replay", "--listen", "127.0.0.1:0", "--ca-dir", state, in("metering.yaml")}, 0, false, replaying(in("metering.yaml")), summary, ""},
		{"flag after the path takes effect", append([]string{"replay", in("metering.yaml"), "--strict"}, serving...), exitCheck, false, replaying(in("metering.yaml")), "--strict: the cassette and the calls made disagree", ""},
		{".yml path", append([]string{"replay", in("old.yml")}, serving...), 0, false, replaying(in("old.yml")), summary, ""},
		{".yml --cassette", append([]string{"replay", "--cassette", in("old.yml")}, serving...), 0, false, replaying(in("old.yml")), summary, ""},
		{"path without extension", append([]string{"replay", in("metering")}, serving...), 0, false, replaying(in("metering.yaml")), summary, ""},
		{"--cassette and the same path", append([]string{"replay", "--cassette", in("metering"), in("metering.yaml")}, serving...), 0, false, replaying(in("metering.yaml")), summary, ""},
		{"--cassette and another path", []string{"replay", "--cassette", in("old.yml"), in("metering.yaml")}, exitUsage, false,
			regexp.QuoteMeta("metervcr: --cassette " + in("old.yml") + " and the path " + in("metering.yaml") + " name two cassettes; give one of them"), "", ""},
		{"two paths", []string{"replay", in("metering.yaml"), in("old.yml")}, exitUsage, false,
			regexp.QuoteMeta("metervcr: replay takes one cassette, got 2 arguments: " + in("metering.yaml") + " " + in("old.yml")), "run: metervcr help replay", ""},
		{"directory", []string{"replay", in("sub"), "--ca-dir", state}, exitUsage, false,
			regexp.QuoteMeta("metervcr: " + in("sub") + " is a directory, not a cassette; name a cassette file, e.g. " + filepath.Join(in("sub"), "metering.yaml")), "", summary},
		{"directory to inspect", []string{"inspect", in("sub")}, exitUsage, false, regexp.QuoteMeta("metervcr: "+in("sub")+" is a directory, not a cassette") + ".*", "", ""},
		{"inspect flag after the path", []string{"inspect", in("old.yml"), "--format", "json"}, 0, true, `\{`, `"path": "` + in("old.yml") + `"`, ""},
		{"redact flag after the path", []string{"redact", in("metering.yaml"), "--ca-dir", state}, 0, true, regexp.QuoteMeta(in("metering.yaml") + ": nothing to redact"), "", ""},
		{"-- ends the flags", []string{"inspect", "--format", "json", "--", "--help"}, exitUsage, false, regexp.QuoteMeta("metervcr: cassette --help.yaml not found") + ".*", "", ""},
		{"process substitution", []string{"diff", piped, in("metering.yaml")}, 0, true,
			regexp.QuoteMeta(piped + " and " + in("metering.yaml") + " match: 8 interactions answered alike"), "", ""},
		{"no arguments", nil, 0, true, "NAME:", "COMMANDS:", ""},
		{"help", []string{"help"}, 0, true, "NAME:", "   metervcr - record and replay", ""},
		{"help replay", []string{"help", "replay"}, 0, true, "NAME:", "   metervcr replay - answer calls from a cassette", ""},
		{"help of a subcommand", []string{"help", "ca", "init"}, 0, true, "NAME:", "   metervcr ca init - create the CA", ""},
		{"--version", []string{"--version"}, 0, true, regexp.QuoteMeta(strings.TrimSuffix(version, "\n")), "", ""},
		{"-v", []string{"-v"}, 0, true, regexp.QuoteMeta(strings.TrimSuffix(version, "\n")), "", ""},
		{"mistyped command", []string{"replya", in("metering.yaml")}, exitUsage, false,
			regexp.QuoteMeta(`metervcr: unknown command "replya"; did you mean replay?`), "for the list of commands, run: metervcr help", ""},
		{"help of a mistyped command", []string{"help", "replya"}, exitUsage, false, regexp.QuoteMeta(`metervcr: unknown command "replya"; did you mean replay?`), "", ""},
		{"mistyped flag", []string{"replay", "--stric"}, exitUsage, false,
			regexp.QuoteMeta("metervcr: unknown flag --stric for replay; did you mean --strict?"), "for the usage of replay, run: metervcr help replay", ""},
		{"mistyped flag after the path", []string{"inspect", in("old.yml"), "--formt", "json"}, exitUsage, false,
			regexp.QuoteMeta("metervcr: unknown flag --formt for inspect; did you mean --format?"), "", ""},
		{"flag without its value", []string{"replay", "--listen"}, exitUsage, false, regexp.QuoteMeta("metervcr: --listen needs a value"), "", ""},
		{"bad flag value", []string{"replay", "--seed", "abc"}, exitUsage, false,
			regexp.QuoteMeta(`metervcr: invalid value "abc" for flag -seed: parse error`), "run: metervcr help replay", ""},
		{"record without a cassette", []string{"record"}, exitUsage, false, regexp.QuoteMeta("metervcr: record needs a cassette to write: metervcr record testdata/metering.yaml") + ".*", "", ""},
		{"busy port", []string{"replay", "--listen", busy.Addr().String(), "--ca-dir", state}, exitUsage, false,
			regexp.QuoteMeta("metervcr: cannot listen on "+busy.Addr().String()+": ") + ".*address already in use.*", "", "summary"},
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runAppContext(t, ended, tt.args...)
			out := stderr
			if tt.stdout {
				out = stdout
			}
			first, _, _ := strings.Cut(out, "\n")
			if code != tt.code || !regexp.MustCompile("^(?:"+tt.first+")$").MatchString(first) {
				t.Fatalf("metervcr %s: exit %d, first line %q; want exit %d and a line matching %q\nstdout:\n%s\nstderr:\n%s",
					strings.Join(tt.args, " "), code, first, tt.code, tt.first, stdout, stderr)
			}
			if tt.also != "" && !strings.Contains(stdout+stderr, tt.also) {
				t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", tt.also, stdout, stderr)
			}
			if tt.not != "" && strings.Contains(stdout+stderr, tt.not) {
				t.Errorf("output holds %q:\nstdout:\n%s\nstderr:\n%s", tt.not, stdout, stderr)
			}
			// Bad usage is a short message and how to get help, not the help.
			if code == exitUsage && (stdout != "" || strings.Count(stderr, "\n") > 2) {
				t.Errorf("usage error prints %d lines on stderr and %d bytes on stdout, want at most 2 and none", strings.Count(stderr, "\n"), len(stdout))
			}
		})
	}
}

// TestRecordPositionalYML records to a new .yml cassette given as the
// positional argument, with flags after it: the cassette is created under
// the name given, not as name.yml.yaml.
func TestRecordPositionalYML(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	path := filepath.Join(t.TempDir(), "new.yml")
	p := start(t, recordEnv(t), "record", path, "--upstream", fake.URL)
	if err := meter(sdk(p.URL), cassettes.DemoDimension, cassettes.DemoQuantity); err != nil {
		t.Fatalf("MeterUsage through record: %v", err)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr)
	}
	first, _, _ := strings.Cut(p.stderr.String(), "\n")
	if want := "metervcr: recording to " + path + " (forwarding to " + fake.URL + ") on http://127.0.0.1:"; !strings.HasPrefix(first, want) {
		t.Errorf("first line %q, want it to start %q", first, want)
	}
	c, err := cassettes.Load(path)
	if err != nil || len(c.Interactions) != 1 {
		t.Fatalf("Load(%s) = %v; want 1 interaction", path, err)
	}
	if _, err := os.Stat(path + ".yaml"); err == nil {
		t.Errorf("%s.yaml exists; the cassette goes to %s", path, path)
	}
}

// TestPathWinsOverCassetteEnv: a path on the command line wins over
// METERVCR_CASSETTE, and --cassette on the command line must agree with it.
func TestPathWinsOverCassetteEnv(t *testing.T) {
	dir := t.TempDir()
	demo, err := os.ReadFile("../../cassettes/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "metering.yaml")
	if err := os.WriteFile(path, demo, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cassetteEnv, filepath.Join(dir, "from-env.yaml"))
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runAppContext(t, ended, "replay", path, "--listen", "127.0.0.1:0", "--ca-dir", filepath.Join(dir, "state"))
	if want := "metervcr: replaying " + path + " on "; code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("replay PATH with %s set: exit %d, stderr:\n%s\nwant exit 0 and %q", cassetteEnv, code, stderr, want)
	}
	code, _, stderr = runAppContext(t, ended, "replay", "--cassette", filepath.Join(dir, "other.yaml"), path)
	if want := "name two cassettes"; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("replay --cassette OTHER PATH with %s set: exit %d, stderr:\n%s\nwant exit 2 and %q", cassetteEnv, code, stderr, want)
	}
}
