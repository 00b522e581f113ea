package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/convert"
)

func convertCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "convert a cassette between go-vcr v2's format (version 1) and go-vcr v3/v4's (version 2)",
		UsageText: "metervcr convert --format-version 1|2 PATH [-o FILE]",
		Description: "metervcr writes and serves go-vcr v2 cassettes (version: 1). Teams on go-vcr v3 or v4\n" +
			"convert them to version 2 to replay them with their own recorder, and convert cassettes\n" +
			"recorded by go-vcr v3/v4 to version 1 to serve them with metervcr replay. Everything both\n" +
			"formats hold is kept; fields only version 2 has are derived from the request and response.\n" +
			"The result goes to stdout, or to FILE with -o.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "format-version",
				Usage: "format version to write: 1 (go-vcr v2, metervcr) or 2 (go-vcr v3 and v4)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"},
				Usage: "write the converted cassette to `FILE` (replaced atomically; .yaml is added when missing) instead of stdout"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("convert takes one cassette PATH, got %d arguments; run: metervcr convert --format-version 2 testdata/metering.yaml", c.NArg())
			}
			if !c.IsSet("format-version") {
				return usageError("convert needs --format-version: 1 (go-vcr v2, metervcr) or 2 (go-vcr v3 and v4)")
			}
			to := c.Int("format-version")
			if to != cassettes.FormatVersion && to != convert.FormatVersionV3 {
				return usageError("--format-version %d: want 1 (go-vcr v2, metervcr) or 2 (go-vcr v3 and v4)", to)
			}
			if err := notDirectory(c.Args().First()); err != nil {
				return err
			}
			path := cassettes.Path(c.Args().First())
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return usageError("cassette %s not found", path)
			}
			if err != nil {
				return usageError("reading cassette: %v", err)
			}
			out, err := convert.To(data, to)
			if err != nil {
				return usageError("cannot convert %s: %v", path, err)
			}
			if c.String("output") == "" {
				_, err := stdout.Write(out)
				return err
			}
			dest := cassettes.Path(c.String("output"))
			if err := cassettes.WriteFileAtomic(dest, out, 0o644); err != nil {
				return fmt.Errorf("writing converted cassette %s: %w", dest, err)
			}
			fmt.Fprintf(stderr, "metervcr: wrote %s (format version %d)\n", dest, to)
			return nil
		},
	}
}
