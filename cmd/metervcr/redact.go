package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

func redactCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "redact",
		Usage:     "apply the current redaction rules to existing cassettes, in place",
		UsageText: "metervcr redact [--ca-dir DIR] [--config FILE] [--token TOKEN]... PATH...",
		Description: "Replaces every secret and buyer account id that verify would report with the\n" +
			"placeholder recording would have written: tokens by their keyless placeholders,\n" +
			"account ids keyed with the project's placeholder key (METERVCR_REDACTION_KEY, or\n" +
			"redaction.key in --ca-dir), so the cassette still replays. Cassettes recorded before\n" +
			"placeholders of tokens were keyless hold keyed ones, which match only where the key is:\n" +
			"--token TOKEN (the token your tests send) rewrites its keyed placeholder into the\n" +
			"keyless one, with the key present. Each file is rewritten atomically, and only when\n" +
			"something changed; running it twice changes nothing the second time. Prints one line\n" +
			"per replaced value.",
		Flags: append([]cli.Flag{caDirFlag(),
			&cli.StringSliceFlag{Name: "token",
				Usage: "a token the cassette holds as a keyed placeholder of an earlier metervcr; rewritten in keyless form (needs the key); repeatable"},
		}, ruleFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("redact needs at least one cassette: metervcr redact testdata/*.yaml")
			}
			tokens := c.StringSlice("token")
			// Keyed placeholders can be recognised only with the key they
			// were made with: a new key would find none.
			key, err := redactionKey(c.String("ca-dir"), len(tokens) == 0, commandLogger(c, stderr))
			if err != nil {
				return err
			}
			if key == nil {
				return usageError("--token needs the redaction key the cassette was recorded with: set METERVCR_REDACTION_KEY, or give its --ca-dir (holding %s)", redact.KeyFile)
			}
			redactor, err := newRedactor(c, key)
			if err != nil {
				return err
			}
			if err := redactor.Unkey(tokens); err != nil {
				return usageError("--token: %v", err)
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
				if err := reportKeyedTokens(stdout, redactor, path); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// reportKeyedTokens lists the tokens of the cassette at path that still
// hold keyed placeholders, and how to make them keyless.
func reportKeyedTokens(w io.Writer, redactor *redact.Redactor, path string) error {
	c, err := cassettes.Load(path)
	if err != nil {
		return loadError(path, err)
	}
	keyed := redactor.KeyedTokens(c)
	for _, f := range keyed {
		fmt.Fprintf(w, "%s: interaction %d: %s: %s\n", c.Path, f.Interaction, f.Where, f.What)
	}
	if len(keyed) > 0 {
		fmt.Fprintf(w, "%s: to replay %s on machines without the key, give the tokens your tests send: metervcr redact --token TOKEN %s\n",
			c.Path, plural(len(keyed), "keyed token"), c.Path)
	}
	return nil
}
