package main

import (
	"strings"
	"testing"
)

// TestStrictExitStatus records two calls, then replays with --strict: a
// run that makes both exits 0, a run that misses one and one that leaves a
// recording unused exit 1, each with the summary.
func TestStrictExitStatus(t *testing.T) {
	t.Parallel()
	path, stateDir := recordCalls(t, "one", "two")

	tests := []struct {
		name       string
		dimensions []string
		exit       int
		summary    string
	}{
		{"clean", []string{"one", "two"}, 0, "0 request(s) missed; 0 recorded interaction(s) never used"},
		{"miss", []string{"one", "two", "three"}, 1, "1 request(s) missed (MeterUsage)"},
		{"unused", []string{"one"}, 1, "1 recorded interaction(s) never used (1 MeterUsage)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, []string{"METERVCR_CA_DIR=" + stateDir}, "replay", "--cassette", path, "--strict")
			for _, d := range tt.dimensions {
				meter(sdk(p.URL), d, 1) // a miss is an expected error here
			}
			code := p.stop(t)
			if code != tt.exit || !strings.Contains(p.stderr.String(), tt.summary) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.exit, tt.summary, p.stderr)
			}
		})
	}
}
