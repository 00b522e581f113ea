package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/audit"
)

func inspectCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show what cassettes metered: every call, its outcome and usage records, and totals",
		UsageText: "metervcr inspect [--format table|json|csv] PATH...",
		Description: "Per interaction (numbered from 0): the operation, the HTTP status or error code, and\n" +
			"every usage record with product code, customer, dimension, quantity, timestamp,\n" +
			"result and metering record id. Then the usage AWS accepted (result Success), per\n" +
			"product, dimension and customer, and per hour, the unit MeterUsage de-duplicates by.\n" +
			"--format json prints one document for scripts; csv one row per record.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", EnvVars: []string{"METERVCR_FORMAT"},
				Usage: "table (for people, 80 columns), json or csv"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("inspect needs at least one cassette: metervcr inspect testdata/metering.yaml")
			}
			format := c.String("format")
			switch format {
			case "table", "json", "csv":
			default:
				return usageError("--format %q: want table, json or csv", format)
			}
			var cs []*cassettes.Cassette
			for _, path := range c.Args().Slice() {
				cas, err := cassettes.Load(path)
				if err != nil {
					return loadError(path, err)
				}
				cs = append(cs, cas)
			}
			rep := audit.Inspect(cs...)
			var err error
			switch format {
			case "json":
				err = rep.WriteJSON(stdout)
			case "csv":
				err = rep.WriteCSV(stdout)
			default:
				err = rep.WriteTable(stdout)
			}
			return err
		},
	}
}
