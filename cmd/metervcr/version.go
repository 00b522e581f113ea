package main

import (
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

func versionCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print metervcr's version, commit and Go version",
		Action: func(*cli.Context) error {
			printVersion(stdout)
			return nil
		},
	}
}

// printVersion writes the line of "metervcr version" and --version.
func printVersion(w io.Writer) {
	bi, _ := debug.ReadBuildInfo() // nil without build info: versionOf says so
	fmt.Fprintln(w, "metervcr "+versionOf(bi))
}

// pseudoVersion matches the commit at the end of a Go pseudo-version
// (v0.0.0-20260102150405-0123456789ab), which go install of a branch or
// commit records instead of VCS settings.
var pseudoVersion = regexp.MustCompile(`-(?:0\.)?\d{14}-([0-9a-f]{12})(?:\+.*)?$`)

// versionOf describes a build: the module version (a tag for go install
// module@vX.Y.Z, "(devel)" for a build from a checkout), the commit when
// known (VCS settings of a checkout build, or the one a pseudo-version
// names) with "modified" for uncommitted changes, and the Go version.
func versionOf(bi *debug.BuildInfo) string {
	if bi == nil {
		return "(unknown version: built without module information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var commit, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if m := pseudoVersion.FindStringSubmatch(v); m != nil && commit == "" {
		commit = m[1]
	}
	var b strings.Builder
	b.WriteString(v)
	if commit != "" {
		fmt.Fprintf(&b, " (commit %.12s%s)", commit, modified)
	}
	if bi.GoVersion != "" {
		b.WriteString(" " + bi.GoVersion)
	}
	return b.String()
}
