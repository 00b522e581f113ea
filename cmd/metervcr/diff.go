package main

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/matcher"
)

func diffCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare a re-recorded cassette with the old one, as replay would match them",
		UsageText: "metervcr diff [--config FILE] OLD NEW",
		Description: "Pairs interactions by their match key, in recorded order within one key, so new\n" +
			"signatures, dates, client tokens, nonces and usage timestamps are not changes. Prints\n" +
			"interactions removed (only in OLD), added (only in NEW, with the fields in which its\n" +
			"request differs from the closest OLD one) and changed (answered with another status,\n" +
			"error or body; record ids, echoed timestamps and RegisterUsage signatures excepted),\n" +
			"numbered from 0 as inspect numbers them. Exits 1 when there is any difference.",
		Flags: []cli.Flag{configFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageError("diff compares two cassettes: metervcr diff OLD NEW (got %d arguments)", c.NArg())
			}
			oldPath, newPath := c.Args().Get(0), c.Args().Get(1)
			old, err := cassettes.Load(oldPath)
			if err != nil {
				return loadError(oldPath, err)
			}
			new, err := cassettes.Load(newPath)
			if err != nil {
				return loadError(newPath, err)
			}
			// Both sides go through the same redactor, so any key pairs
			// them alike; recorded requests already hold placeholders.
			key := make([]byte, 32)
			rand.Read(key) // never fails (crypto/rand panics rather than return an error)
			redactor, err := newRedactor(c, key)
			if err != nil {
				return err
			}
			m, err := matcher.New(matcher.Default(redactor))
			if err != nil {
				return fmt.Errorf("matcher: %w", err) // the defaults are valid: a defect
			}
			cmp := matcher.Compare(m, old.Interactions, new.Interactions)
			if len(cmp.Changes) == 0 {
				fmt.Fprintf(stdout, "%s and %s match: %s answered alike\n", old.Path, new.Path, plural(cmp.Unchanged, "interaction"))
				return nil
			}
			counts := map[string]int{}
			for _, ch := range cmp.Changes {
				counts[ch.Kind]++
				fmt.Fprintln(stdout, ch)
			}
			fmt.Fprintf(stdout, "%s → %s: %d removed, %d added, %d changed, %d unchanged\n",
				old.Path, new.Path, counts["removed"], counts["added"], counts["changed"], cmp.Unchanged)
			return cli.Exit("", exitCheck)
		},
	}
}
