package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// hourAgoSigner signs as the SDK does, an hour before now.
type hourAgoSigner struct{ *v4.Signer }

func (s hourAgoSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, hash, service, region string, _ time.Time, o ...func(*v4.SignerOptions)) error {
	return s.Signer.SignHTTP(ctx, c, r, hash, service, region, time.Now().Add(-time.Hour), o...)
}

// recordCalls records a MeterUsage call of quantity 1 for each dimension
// against the fake service, and returns the cassette and the --ca-dir that
// holds its redaction key.
func recordCalls(t *testing.T, dimensions ...string) (path, stateDir string) {
	t.Helper()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	path, stateDir = filepath.Join(t.TempDir(), "recorded.yaml"), t.TempDir()
	rec := start(t, append(recordEnv(t), "METERVCR_CA_DIR="+stateDir), "record", "--cassette", path, "--upstream", fake.URL)
	for _, d := range dimensions {
		if err := meter(sdk(rec.URL), d, 1); err != nil {
			t.Fatal(err)
		}
	}
	rec.stop(t)
	return path, stateDir
}

// logLinesWith returns the log lines (not the summary) of stderr that hold
// all of parts.
func logLinesWith(stderr string, parts ...string) []string {
	var out []string
	for line := range strings.Lines(stderr) {
		if !strings.HasPrefix(line, "time=") {
			continue
		}
		found := true
		for _, p := range parts {
			found = found && strings.Contains(line, p)
		}
		if found {
			out = append(out, line)
		}
	}
	return out
}

// TestReplayExplainsMissesAndRefusals records one call, then replays it
// with --strict along with a problem request sent three times: a miss, or
// a request the AWS checks refuse. The log explains the problem once, at
// warn level (the closest recording and the differing field; or the error
// code, the reason and the --aws-checks value that relaxes it), the
// summary lists it with its count, and the process exits 1.
func TestReplayExplainsMissesAndRefusals(t *testing.T) {
	t.Parallel()
	path, stateDir := recordCalls(t, "one")

	tests := []struct {
		name     string
		opts     func(*mm.Options) // the client's, for the problem request
		quantity int32
		log      []string // in the one warn line that explains the problem
		summary  []string
	}{
		{name: "miss", opts: func(*mm.Options) {}, quantity: 2,
			log: []string{"action=miss status=404", "closest=0", "UsageQuantity (recorded 1, got 2)"},
			summary: []string{"3 request(s) missed (MeterUsage, MeterUsage, MeterUsage); 0 recorded interaction(s) never used",
				"\n  MeterUsage missed 3 time(s): no recorded interaction matches this MeterUsage request; closest is interaction 0 (MeterUsage), which differs in: UsageQuantity (recorded 1, got 2)"}},
		{name: "stale X-Amz-Date", quantity: 1,
			opts: func(o *mm.Options) { o.HTTPSignerV4 = hourAgoSigner{v4.NewSigner()} },
			log: []string{"action=refused status=403", "code=InvalidSignatureException", "Signature expired: X-Amz-Date " + time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:"),
				`relax="--aws-checks metering`},
			summary: []string{"0 request(s) missed; 0 recorded interaction(s) never used; 3 request(s) refused by the AWS checks (MeterUsage, MeterUsage, MeterUsage)",
				"\n  MeterUsage refused 3 time(s): InvalidSignatureException: Signature expired", "to let such calls through: --aws-checks metering"}},
		{name: "no region", quantity: 1,
			opts: func(o *mm.Options) { o.Region = "" },
			log:  []string{"action=refused status=403", "code=IncompleteSignatureException", "signed for no region", "AWS_REGION=us-east-1", `relax="--aws-checks metering`},
			summary: []string{"3 request(s) refused by the AWS checks (MeterUsage, MeterUsage, MeterUsage)",
				"\n  MeterUsage refused 3 time(s): IncompleteSignatureException: the request was signed for no region", "AWS_REGION=us-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, []string{"METERVCR_CA_DIR=" + stateDir}, "replay", "--cassette", path, "--strict")
			if err := meter(sdk(p.URL), "one", 1); err != nil {
				t.Fatalf("the recorded call: %v", err)
			}
			c := sdk(p.URL, tt.opts)
			for range 3 {
				if err := meter(c, "one", tt.quantity); err == nil {
					t.Fatal("the problem request succeeded, want an error")
				}
			}
			code := p.stop(t)
			stderr := p.stderr.String()
			if code != exitCheck {
				t.Errorf("exit %d, want %d (--strict)", code, exitCheck)
			}
			explained := logLinesWith(stderr, append(tt.log, "level=WARN")...)
			if len(explained) != 1 {
				t.Errorf("%d warn lines hold %q, want 1 for three identical requests:\n%s", len(explained), tt.log, stderr)
			}
			if n := len(logLinesWith(stderr, "level=WARN", "op=MeterUsage")); n != 1 {
				t.Errorf("%d warn lines about MeterUsage, want 1:\n%s", n, stderr)
			}
			if n := len(logLinesWith(stderr, "level=INFO", "repeat=")); n != 2 {
				t.Errorf("%d repeats logged at info, want 2:\n%s", n, stderr)
			}
			for _, w := range tt.summary {
				if !strings.Contains(stderr, "metervcr: replay summary: ") || !strings.Contains(stderr, w) {
					t.Errorf("summary lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestHealthProbesLeaveNoTrace probes the health path a hundred times in
// each command that serves: at the default level the log holds no line
// about them, at debug level only debug lines, nothing is recorded and
// replay counts no miss.
func TestHealthProbesLeaveNoTrace(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	recording := filepath.Join(t.TempDir(), "probed.yaml")
	tests := []struct {
		name string
		env  []string
		args []string
		body string
	}{
		{"replay", nil, []string{"replay"}, `{"status":"ok","mode":"replay","cassette":"built-in demo","interactions":8}`},
		{"replay at debug", nil, []string{"replay", "--log-level", "debug"}, `"mode":"replay"`},
		{"record", recordEnv(t), []string{"record", "--cassette", recording, "--upstream", fake.URL}, `{"status":"ok","mode":"record","cassette":"` + recording + `"}`},
		{"mock", nil, []string{"mock"}, `{"status":"ok","mode":"mock"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, append([]string{"METERVCR_CA_DIR=" + t.TempDir()}, tt.env...), tt.args...)
			for i := range 100 {
				resp, err := http.Get(p.URL + proxy.HealthPath)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tt.body) {
					t.Fatalf("probe %d: %d %s, want 200 and %s", i, resp.StatusCode, body, tt.body)
				}
			}
			if code := p.stop(t); code != 0 {
				t.Errorf("exit %d, want 0", code)
			}
			stderr := p.stderr.String()
			debug := strings.Contains(strings.Join(tt.args, " "), "debug")
			probes := logLinesWith(stderr, "health")
			switch {
			case debug && len(probes) != 100:
				t.Errorf("%d probe lines at debug level, want 100:\n%s", len(probes), stderr)
			case !debug && len(probes) != 0:
				t.Errorf("%d probe lines at info level, want none:\n%s", len(probes), stderr)
			}
			if above := len(logLinesWith(stderr)) - len(logLinesWith(stderr, "level=DEBUG")) - len(logLinesWith(stderr, "shutting down")); above != 0 {
				t.Errorf("%d log lines above debug besides shutting down, want none:\n%s", above, stderr)
			}
			if tt.args[0] == "replay" && !strings.Contains(stderr, "replay summary: 0 request(s) missed;") {
				t.Errorf("summary counts misses:\n%s", stderr)
			}
			if tt.args[0] == "record" {
				if c, err := cassettes.Load(recording); err == nil && len(c.Interactions) != 0 {
					t.Errorf("the cassette holds %d interactions after probes, want none", len(c.Interactions))
				}
			}
		})
	}
}
