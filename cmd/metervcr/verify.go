package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
)

func verifyCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check that cassettes hold no secret and only Marketplace Metering calls (a CI gate)",
		UsageText: "metervcr verify [--config FILE] PATH...",
		Description: "Looks through every header, URL, form and body (nested JSON and error messages\n" +
			"included) for AWS access key ids, secret keys next to them, session tokens, SigV4\n" +
			"Authorization values, registration tokens and buyer AWS account ids in clear, and\n" +
			"checks that every interaction is a Marketplace Metering call. Placeholders\n" +
			"(REDACTED-..., account ids starting 0000) are clean. Prints one line per problem,\n" +
			"PATH: interaction N: where: what, and exits 1 when there is any; exits 0 with a\n" +
			"one-line summary when there is none, and 2 when a file cannot be read.",
		Flags: ruleFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError("verify needs at least one cassette: metervcr verify testdata/*.yaml")
			}
			scanner, err := newScanner(c)
			if err != nil {
				return err
			}
			var unreadable, bad, problems, interactions int
			for _, path := range c.Args().Slice() {
				found, n, err := scanner.File(path)
				if err != nil {
					unreadable++
					if errors.Is(err, cassettes.ErrNotFound) {
						fmt.Fprintf(stderr, "metervcr: %v; check the path\n", err)
					} else {
						fmt.Fprintf(stderr, "metervcr: cannot read %s: %v\n", path, err)
					}
					continue
				}
				interactions += n
				if len(found) > 0 {
					bad++
				}
				for _, f := range found {
					problems++
					fmt.Fprintf(stdout, "%s: %s\n", cassettes.Path(path), f)
				}
			}
			checked := c.NArg() - unreadable
			switch {
			case unreadable > 0:
				return usageError("%s could not be read; verify checked the other %d", plural(unreadable, "cassette"), checked)
			case problems > 0:
				return cli.Exit(fmt.Sprintf("%s in %d of %s; replace secrets with placeholders: metervcr redact PATH..., "+
					"and remove or re-record interactions that are not Marketplace Metering calls", plural(problems, "problem"), bad, plural(checked, "cassette")), exitCheck)
			}
			fmt.Fprintf(stdout, "%s verified, %s: no secrets in clear, only Marketplace Metering calls\n",
				plural(checked, "cassette"), plural(interactions, "interaction"))
			return nil
		},
	}
}

// plural returns "1 cassette" or "n cassettes".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
