package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"gopkg.in/dnaeon/go-vcr.v2/cassette"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// binary is metervcr built once for the tests that need a real process
// (signals, kill -9).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "metervcr-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "metervcr")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building metervcr: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runApp runs the command line in-process.
func runApp(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runAppContext(t, context.Background(), args...)
}

// runAppContext is runApp with ctx: a serving command shuts down when ctx
// ends, at once when it has already ended.
func runAppContext(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctx, append([]string{"metervcr"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// The in-process CLI tests do not run in parallel: urfave/cli v2 keeps its
// help flag in a package variable that every run writes.

func TestHelpNamesCommandsAndFlags(t *testing.T) {
	code, out, _ := runApp(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"record", "replay", "metervcr replay", "AWS_ENDPOINT_URL_MARKETPLACE_METERING"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runApp(t, "record", "--help")
	for _, want := range []string{"--cassette", "METERVCR_CASSETTE", "--upstream", "--region", "--fresh", "--listen", "METERVCR_LISTEN"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("record --help (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
}

func TestBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\ninteractions: [\n"), 0o644)
	v3 := filepath.Join(dir, "v3.yaml")
	os.WriteFile(v3, []byte("version: 2\ninteractions: []\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing cassette", []string{"replay", "--cassette", filepath.Join(dir, "none")}, []string{"none.yaml not found", "metervcr record --cassette"}},
		{"unparsable cassette", []string{"replay", "--cassette", bad}, []string{bad, "not a valid cassette", "line"}},
		{"wrong version", []string{"replay", "--cassette", v3}, []string{v3, "version 2"}},
		{"record without cassette", []string{"record"}, []string{"cassette"}},
		{"bad upstream", []string{"record", "--cassette", filepath.Join(dir, "x"), "--upstream", "ftp:/x"}, []string{"--upstream", "base URL"}},
		{"unknown flag", []string{"replay", "--nope"}, []string{"nope"}},
		{"busy address", []string{"replay", "--listen", "256.0.0.1:1"}, []string{"cannot listen", "--listen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runApp(t, tt.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// process is a metervcr subprocess and the URL it serves.
type process struct {
	cmd    *exec.Cmd
	URL    string
	stderr *bytes.Buffer
	done   chan error
}

var servingOn = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)

// start runs metervcr with args, in the test's environment plus env, and
// waits until it serves.
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	return startIn(t, append(os.Environ(), env...), args...)
}

// startIn is start with exactly the environment env, nothing inherited.
func startIn(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--listen", "127.0.0.1:0")...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.WriteString(line + "\n")
			if m := servingOn.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-scanned // p.stderr is complete, and read only after done
		p.done <- err
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case p.URL = <-urlc:
	case err := <-p.done:
		t.Fatalf("metervcr exited before serving: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("metervcr did not start serving within 20s")
	}
	return p
}

// stop sends SIGTERM, waits for the process to exit, as it must within
// 10s, and returns its exit code.
func (p *process) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit within 10s of SIGTERM; stderr:\n%s", p.stderr)
		return -1
	}
}

func recordEnv(t *testing.T) []string {
	creds := fakeaws.DefaultCredentials()[0]
	return []string{
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + creds.SessionToken, "AWS_PROFILE=", "AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_EC2_METADATA_DISABLED=true",
		"METERVCR_CA_DIR=" + t.TempDir(),
	}
}

// freshEnv is the environment of a CI runner that did not record: an empty
// home and state directory, no redaction key, no AWS credentials or
// configuration.
func freshEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{
		"HOME=" + home, "METERVCR_CA_DIR=" + filepath.Join(home, ".metervcr"), "METERVCR_REDACTION_KEY=",
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// sdk is the Go SDK's client for url, in us-east-1, with one attempt per
// call; opts change its options further.
func sdk(url string, opts ...func(*mm.Options)) *mm.Client {
	return mm.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "")},
		append([]func(*mm.Options){func(o *mm.Options) { o.BaseEndpoint = aws.String(url); o.RetryMaxAttempts = 1 }}, opts...)...)
}

func meter(c *mm.Client, dimension string, quantity int32) error {
	_, err := c.MeterUsage(context.Background(), &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
		Timestamp: aws.Time(time.Now()), UsageDimension: aws.String(dimension), UsageQuantity: aws.Int32(quantity)})
	return err
}

// TestKillDuringRecordKeepsAnsweredCalls kills a recording process with
// SIGKILL after N answered calls: the cassette must load (with go-vcr's
// own loader) and hold all N.
func TestKillDuringRecordKeepsAnsweredCalls(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	path := filepath.Join(t.TempDir(), "killed")
	p := start(t, recordEnv(t), "record", "--cassette", path, "--upstream", fake.URL)
	c := sdk(p.URL)
	const n = 7
	for i := range n {
		if err := meter(c, fmt.Sprintf("dimension-%d", i), int32(i)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	loaded, err := cassette.Load(path)
	if err != nil {
		t.Fatalf("go-vcr Load after kill -9: %v", err)
	}
	if len(loaded.Interactions) != n {
		t.Fatalf("cassette holds %d interactions after %d answered calls, want %d", len(loaded.Interactions), n, n)
	}
}

// TestReplayDemoAndGracefulShutdown is what make run starts: replay of the
// embedded demo cassette, answering the SDK, then SIGTERM exits 0 with a
// summary.
func TestReplayDemoAndGracefulShutdown(t *testing.T) {
	t.Parallel()
	p := start(t, []string{"METERVCR_CA_DIR=" + t.TempDir()}, "replay")
	if err := meter(sdk(p.URL), cassettes.DemoDimension, cassettes.DemoQuantity); err != nil {
		t.Fatalf("demo MeterUsage: %v", err)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr)
	}
	for _, want := range []string{"built-in demo cassette", "meteringmarketplace meter-usage", "action=match", "replay summary: 0 request(s) missed"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

func TestCAInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	code, out, stderr := runApp(t, "ca", "init", "--ca-dir", dir)
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "ca.pem")) || !strings.Contains(out, "AWS_CA_BUNDLE=") {
		t.Fatalf("ca init: exit %d\n%s%s", code, out, stderr)
	}
	st, err := os.Stat(filepath.Join(dir, "ca-key.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ca-key.pem: %v, mode %v, want 0600", err, st.Mode().Perm())
	}
	os.Chmod(filepath.Join(dir, "ca-key.pem"), 0o644)
	code, _, stderr = runApp(t, "replay", "--ca-dir", dir)
	if code != exitUsage || !strings.Contains(stderr, "chmod 600") {
		t.Fatalf("replay with a world-readable CA key: exit %d, stderr %s; want 2 and how to fix it", code, stderr)
	}
}
