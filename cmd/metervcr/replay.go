package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/proxy"
)

func replayCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "answer calls from a cassette, offline: no credentials, no network",
		UsageText: "metervcr replay [--cassette testdata/metering.yaml] [--listen ADDR]",
		Description: "Requests match a recording when method, path, X-Amz-Target and the JSON body agree,\n" +
			"ignoring signatures, dates, SDK headers, MeterUsage ClientToken, usage timestamps and\n" +
			"RegisterUsage Nonce. Several matching recordings are served in order; the last repeats.\n" +
			"A request with no recording gets 404 NoRecordedInteraction, naming the closest\n" +
			"recording and the fields that differ. Without --cassette the built-in demo cassette\n" +
			"is served.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cassette", EnvVars: []string{"METERVCR_CASSETTE"},
				Usage: "cassette file to serve (.yaml is added when missing); default: the built-in demo cassette"},
			listenFlag(),
			caDirFlag(),
		},
		Action: func(c *cli.Context) error {
			log := newLogger(stderr)
			cfg := proxy.Config{Mode: proxy.Replay, Cassette: c.String("cassette"), Log: log}
			name := cfg.Cassette
			var key []byte
			if cfg.Cassette == "" {
				demo, err := cassettes.Demo()
				if err != nil {
					return fmt.Errorf("built-in demo cassette: %w", err) // a build defect, not user input
				}
				cfg.Interactions, key, name = demo.Interactions, cassettes.DemoKey, "the built-in demo cassette"
			} else {
				var err error
				if key, err = redactionKey(c.String("ca-dir"), false, log); err != nil {
					return err
				}
			}
			redactor, err := cassettes.NewRedactor(key, nil, nil)
			if err != nil {
				return usageError("%v", err)
			}
			cfg.Redactor = redactor
			if cfg.CA, err = loadCA(c.String("ca-dir")); err != nil {
				return err
			}
			srv, err := proxy.New(cfg)
			if err != nil {
				return loadError(cfg.Cassette, err)
			}
			err = serve(c.Context, c.String("listen"), srv, log, func(u string) {
				fmt.Fprintf(stderr, "metervcr: replaying %s on %s\n", name, u)
				printHowToConnect(stderr, u, cfg.CA)
				if cfg.Cassette == "" {
					fmt.Fprintf(stderr, "metervcr: try:\n  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --region us-east-1 --endpoint-url %s \\\n"+
						"    meteringmarketplace meter-usage --product-code %s --usage-dimension %s --usage-quantity %d --timestamp $(date +%%s)\n",
						u, cassettes.DemoProduct, cassettes.DemoDimension, cassettes.DemoQuantity)
				}
			})
			printSummary(stderr, srv)
			return err
		},
	}
}
