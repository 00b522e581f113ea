package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy"
)

func replayCommand(stderr io.Writer, sc serveConfig) *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "answer calls from a cassette, offline: no credentials, no network",
		UsageText: "metervcr replay [--listen ADDR] [--strict] [--junit FILE] [--record-missing [--upstream URL]] [[--cassette] testdata/metering.yaml]",
		Description: "Requests match a recording when method, path, X-Amz-Target and the JSON body agree,\n" +
			"ignoring signatures, dates, SDK headers, MeterUsage ClientToken, usage timestamps and\n" +
			"RegisterUsage Nonce. Several matching recordings are served in order; the last repeats.\n" +
			"A request with no recording gets 404 NoRecordedInteraction, naming the closest\n" +
			"recording and the fields that differ. Without a cassette the built-in demo cassette\n" +
			"is served.",
		Flags: []cli.Flag{
			cassetteFlag("cassette file to serve, also given as the one positional argument; .yaml is added to a name without an extension; default: the built-in demo cassette"),
			listenFlag(),
			caDirFlag(),
			logFormatFlag(), logLevelFlag(),
			&cli.BoolFlag{Name: "strict", EnvVars: []string{"METERVCR_STRICT"},
				Usage: "exit 1 at shutdown when any request missed or was refused by the AWS checks, or any recording was never used, so stale cassettes fail CI"},
			&cli.StringFlag{Name: "junit", EnvVars: []string{"METERVCR_JUNIT"},
				Usage: "at shutdown, write the summary to `FILE` as a JUnit XML report (replaced atomically): a failing test case per miss, refusal or unused recording, for CI dashboards"},
			&cli.BoolFlag{Name: "record-missing", EnvVars: []string{"METERVCR_RECORD_MISSING"},
				Usage: "forward requests that match no recording to AWS (re-signed, as record does) and append them to the cassette"},
			&cli.StringFlag{Name: "upstream", EnvVars: []string{"METERVCR_UPSTREAM"},
				Usage: "with --record-missing: dial this base URL instead of the real AWS host"},
			&cli.StringFlag{Name: "region", Value: "us-east-1", EnvVars: []string{"METERVCR_REGION"},
				Usage: "with --record-missing: region used when a request's signature names none"},
			upstreamCAFlag(),
			&cli.StringFlag{Name: "aws-checks", Value: "all", EnvVars: []string{"METERVCR_AWS_CHECKS"},
				Usage: "checks AWS would make before answering: all, signature (SigV4 shape and clock), metering (25 records, timestamp windows) or off"},
			&cli.StringFlag{Name: "latency", Value: "none", EnvVars: []string{"METERVCR_LATENCY"},
				Usage: "none answers at once; recorded waits as long as the recorded upstream call took"},
			&cli.StringFlag{Name: "order", Value: "repeat-last", EnvVars: []string{"METERVCR_ORDER"},
				Usage: "repeat-last serves matching recordings in order and repeats the last; once serves each recording once (a further identical call misses)"},
			&cli.StringFlag{Name: "timestamps", Value: "ignore", EnvVars: []string{"METERVCR_TIMESTAMPS"},
				Usage: "ignore usage timestamps when matching, or compare them truncated to the hour (the service's de-duplication unit)"},
			&cli.StringSliceFlag{Name: "ignore-body", EnvVars: []string{"METERVCR_IGNORE_BODY"},
				Usage: "also ignore this body field when matching, as Operation.Field (e.g. MeterUsage.UsageAllocations, *.ProductCode); repeatable"},
			injectFlag(), seedFlag(),
			configFlag(), redactHeaderFlag(), redactFieldFlag(), keepFieldFlag(),
		},
		Action: func(c *cli.Context) error {
			log := commandLogger(c, stderr)
			cassette, err := cassetteArg(c)
			if err != nil {
				return err
			}
			cfg := proxy.Config{Mode: proxy.Replay, Cassette: cassette, Log: log}
			if err := replayOptions(c, &cfg); err != nil {
				return err
			}
			var missing string // why --record-missing has no credentials
			if cfg.RecordMissing {
				var err error
				if cfg.Credentials, missing, err = loadCredentials(c.Context, cfg.Region); err != nil {
					return err
				}
			}
			name := cassettes.Path(cfg.Cassette) // the file, as replay prints it
			var key []byte
			if cfg.Cassette == "" {
				demo, err := cassettes.Demo()
				if err != nil {
					return fmt.Errorf("built-in demo cassette: %w", err) // a build defect, not user input
				}
				cfg.Interactions, key, name = demo.Interactions, redact.DemoKey(), "the built-in demo cassette"
			} else {
				var err error
				if key, err = redactionKey(c.String("ca-dir"), cfg.RecordMissing, log); err != nil {
					return err
				}
			}
			redactor, err := newRedactor(c, key)
			if err != nil {
				return err
			}
			cfg.Redactor = redactor
			if cfg.CA, err = loadCA(c.String("ca-dir")); err != nil {
				return err
			}
			var injectErr error
			cfg.Middleware = func(h http.Handler) http.Handler {
				wrapped, err := withInject(c, h, log, stderr)
				injectErr = err
				return wrapped
			}
			srv, err := proxy.New(cfg)
			if err != nil {
				return loadError(cfg.Cassette, err)
			}
			if injectErr != nil {
				return injectErr
			}
			served := false // a server that never started has nothing to sum up
			err = sc.serve(c.Context, c.String("listen"), srv, log, stderr, func(u string) {
				served = true
				fmt.Fprintf(stderr, "metervcr: replaying %s on %s\n", name, u)
				if cfg.RecordMissing && cfg.Credentials == nil {
					warnNoCredentials(stderr, log, "endpoint-mode calls that match no recording", missing)
				}
				printHowToConnect(stderr, u, cfg.CA)
				if cfg.Cassette == "" {
					fmt.Fprintf(stderr, "metervcr: try:\n  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --region us-east-1 --endpoint-url %s \\\n"+
						"    meteringmarketplace meter-usage --product-code %s --usage-dimension %s --usage-quantity %d --timestamp $(date +%%s)\n",
						u, cassettes.DemoProduct, cassettes.DemoDimension, cassettes.DemoQuantity)
				}
			})
			if !served {
				return err
			}
			printSummary(stderr, srv)
			if file := c.String("junit"); file != "" {
				if jerr := writeJUnit(file, srv.Summary(), "metervcr replay "+name); jerr != nil {
					return jerr
				}
			}
			if err == nil && c.Bool("strict") {
				if sum := srv.Summary(); len(sum.Misses) > 0 || len(sum.Refused) > 0 || len(sum.Unused) > 0 {
					return cli.Exit("--strict: the cassette and the calls made disagree (see the summary above); re-record it or fix the calls", exitCheck)
				}
			}
			return err
		},
	}
}

// writeJUnit writes sum to file as a JUnit XML report of the suite named
// suite, replacing the file atomically so that a CI step never reads half
// of it.
func writeJUnit(file string, sum proxy.Summary, suite string) error {
	var b bytes.Buffer
	if err := sum.WriteJUnit(&b, suite); err != nil {
		return err // a bytes.Buffer does not fail: the report itself could not be encoded
	}
	if err := cassettes.WriteFileAtomic(file, b.Bytes(), 0o644); err != nil {
		return usageError("cannot write the JUnit report %s: %v; pick a writable path with --junit", file, err)
	}
	return nil
}
