package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/audit"
	"github.com/metervcr/metervcr/cassettes/redact"
)

func inspectCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show what cassettes metered: every call, its outcome and usage records, and totals",
		UsageText: "metervcr inspect [--format table|json|csv|html] [-o FILE] PATH...",
		Description: "Per interaction (numbered from 0): the operation, the HTTP status or error code, and\n" +
			"every usage record with product code, customer, dimension, quantity, timestamp,\n" +
			"result and metering record id. Then the usage AWS accepted (result Success), per\n" +
			"product, dimension and customer, and per hour, the unit MeterUsage de-duplicates by.\n" +
			"--format json prints one document for scripts; csv one row per record; html one\n" +
			"page that works offline, with a chart of accepted usage per hour, the records AWS\n" +
			"did not meter, and what verify finds in each cassette. A PATH that is a folder\n" +
			"stands for its *.yaml and *.yml cassettes.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", EnvVars: []string{"METERVCR_FORMAT"},
				Usage: "table (for people, 80 columns), json, csv or html"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		}, ruleFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("inspect needs at least one cassette: metervcr inspect testdata/metering.yaml")
			}
			format := c.String("format")
			switch format {
			case "table", "json", "csv", "html":
			default:
				return usageError("--format %q: want table, json, csv or html", format)
			}
			paths, err := cassetteFiles(c.Args().Slice())
			if err != nil {
				return err
			}
			var cs []*cassettes.Cassette
			for _, path := range paths {
				cas, err := cassettes.Load(path)
				if err != nil {
					return loadError(path, err)
				}
				cs = append(cs, cas)
			}
			rep := audit.Inspect(cs...)
			var out bytes.Buffer
			switch format {
			case "json":
				err = rep.WriteJSON(&out)
			case "csv":
				err = rep.WriteCSV(&out)
			case "html":
				err = writeHTML(c, &out, rep, cs)
			default:
				err = rep.WriteTable(&out)
			}
			if err != nil {
				return err
			}
			if dest := c.String("output"); dest != "" {
				if err := cassettes.WriteFileAtomic(dest, out.Bytes(), 0o644); err != nil {
					return cli.Exit(fmt.Sprintf("cannot write %s: %v; check that its folder exists and is writable, or leave -o out to print the report", dest, err), exitCheck)
				}
				return nil
			}
			_, err = stdout.Write(out.Bytes())
			return err
		},
	}
}

// writeHTML writes the page of rep with what verify finds in each
// cassette, under the same redaction rules.
func writeHTML(c *cli.Context, w io.Writer, rep *audit.Report, cs []*cassettes.Cassette) error {
	scanner, err := newScanner(c)
	if err != nil {
		return err
	}
	findings := make([][]redact.Finding, len(cs))
	for i, cas := range cs {
		findings[i] = scanner.Cassette(cas)
	}
	return rep.WriteHTML(w, findings)
}

// cassetteFiles replaces each folder among args with its *.yaml and *.yml
// files, in name order; other arguments are kept as they are.
func cassetteFiles(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil || !st.IsDir() {
			out = append(out, arg)
			continue
		}
		entries, err := os.ReadDir(arg)
		if err != nil {
			return nil, usageError("cannot read folder %s: %v; check its permissions, or name the cassettes one by one", arg, err)
		}
		n := len(out)
		for _, e := range entries {
			if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				out = append(out, filepath.Join(arg, e.Name()))
			}
		}
		if len(out) == n {
			return nil, usageError("%s is a directory, not a cassette, and holds no *.yaml or *.yml cassette; name a cassette file, or record one: metervcr record --cassette %s", arg, filepath.Join(arg, "metering.yaml"))
		}
	}
	return out, nil
}
