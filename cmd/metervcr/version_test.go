package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	t.Parallel()
	build := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/metervcr/metervcr", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"go install of a tag", build("v1.2.3"), "v1.2.3 go1.26.8"},
		{"go install of a commit", build("v0.0.0-20261128031741-0123456789ab"), "v0.0.0-20261128031741-0123456789ab (commit 0123456789ab) go1.26.8"},
		{"pseudo-version after a tag", build("v1.2.4-0.20261128031741-0123456789ab"), "v1.2.4-0.20261128031741-0123456789ab (commit 0123456789ab) go1.26.8"},
		{"checkout build", build("(devel)", "vcs.revision", "fedcba9876543210fedcba9876543210fedcba98", "vcs.modified", "false"), "(devel) (commit fedcba987654) go1.26.8"},
		{"checkout with changes", build("(devel)", "vcs.revision", "fedcba9876543210fedcba9876543210fedcba98", "vcs.modified", "true"), "(devel) (commit fedcba987654, modified) go1.26.8"},
		{"no vcs information", build("(devel)"), "(devel) go1.26.8"},
		{"no build information", nil, "(unknown version: built without module information)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(tt.bi); got != tt.want {
				t.Errorf("versionOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, stderr := runApp(t, "version")
	if code != 0 || !strings.HasPrefix(out, "metervcr ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("version: exit %d, stdout %q, stderr %q; want metervcr, its version and %s", code, out, stderr, runtime.Version())
	}
}
