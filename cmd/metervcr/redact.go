package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
)

func redactCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "redact",
		Usage:     "apply the current redaction rules to existing cassettes, in place",
		UsageText: "metervcr redact [--ca-dir DIR] [--config FILE] PATH...",
		Description: "Replaces every secret and buyer account id that verify would report with the\n" +
			"placeholder recording would have written, keyed with the project's placeholder key\n" +
			"(METERVCR_REDACTION_KEY, or redaction.key in --ca-dir), so the cassette still replays.\n" +
			"Each file is rewritten atomically, and only when something changed; running it twice\n" +
			"changes nothing the second time. Prints one line per replaced value.",
		Flags: append([]cli.Flag{caDirFlag()}, ruleFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("redact needs at least one cassette: metervcr redact testdata/*.yaml")
			}
			key, err := redactionKey(c.String("ca-dir"), true, commandLogger(c, stderr))
			if err != nil {
				return err
			}
			redactor, err := newRedactor(c, key)
			if err != nil {
				return err
			}
			for _, path := range c.Args().Slice() {
				done, warnings, err := redactor.File(path)
				if err != nil {
					return loadError(path, err)
				}
				for _, msg := range warnings {
					fmt.Fprintf(stderr, "metervcr: warning: %s: %s\n", cassettes.Path(path), msg)
				}
				for _, f := range done {
					fmt.Fprintf(stdout, "%s: interaction %d: %s: redacted: %s\n", cassettes.Path(path), f.Interaction, f.Where, f.What)
				}
				if len(done) == 0 {
					fmt.Fprintf(stdout, "%s: nothing to redact\n", cassettes.Path(path))
				} else {
					fmt.Fprintf(stdout, "%s: %s redacted\n", cassettes.Path(path), plural(len(done), "value"))
				}
			}
			return nil
		},
	}
}
