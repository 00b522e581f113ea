package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/proxy"
)

func recordCommand(stderr io.Writer, sc serveConfig) *cli.Command {
	return &cli.Command{
		Name:      "record",
		Usage:     "forward calls to AWS and save each exchange, redacted, in a cassette",
		UsageText: "metervcr record [--upstream URL] [--region R] [--fresh] [--cassette] testdata/metering.yaml",
		Description: "Start the proxy, then run your application or tests with the client pointed at it\n" +
			"(aws --endpoint-url http://127.0.0.1:8089, or AWS_ENDPOINT_URL_MARKETPLACE_METERING).\n" +
			"The client may sign with any key pair: the proxy strips that signature and re-signs\n" +
			"each call with its own AWS credentials (standard chain: environment, profile, SSO, IMDS)\n" +
			"for metering.marketplace.<region>.amazonaws.com. Calls that come through HTTPS_PROXY\n" +
			"keep their own signature and need no credentials in the proxy: without any, record\n" +
			"still starts, records those, and refuses endpoint-mode calls with 403 NoProxyCredentials.\n" +
			"Every exchange is on disk before its response reaches the client. Stop with Ctrl-C.",
		Flags: []cli.Flag{
			cassetteFlag("cassette file to append to, also given as the one positional argument; .yaml is added to a name without an extension"),
			listenFlag(),
			&cli.StringFlag{Name: "upstream", EnvVars: []string{"METERVCR_UPSTREAM"},
				Usage: "dial this base URL instead of the real AWS host (staging endpoints, local fakes); Host and signature stay the real host's"},
			&cli.StringFlag{Name: "region", Value: "us-east-1", EnvVars: []string{"METERVCR_REGION"},
				Usage: "region used when a request's signature names none"},
			caDirFlag(),
			&cli.BoolFlag{Name: "fresh", EnvVars: []string{"METERVCR_FRESH"},
				Usage: "start an empty cassette instead of appending to an existing one"},
			upstreamCAFlag(),
			logFormatFlag(), logLevelFlag(),
			configFlag(), redactHeaderFlag(), redactFieldFlag(), keepFieldFlag(),
		},
		Action: func(c *cli.Context) error {
			log := commandLogger(c, stderr)
			cassette, err := cassetteArg(c)
			if err != nil {
				return err
			}
			if cassette == "" {
				return usageError("record needs a cassette to write: metervcr record testdata/metering.yaml (or --cassette, %s)", cassetteEnv)
			}
			upstream, err := parseUpstream(c.String("upstream"))
			if err != nil {
				return err
			}
			creds, missing, err := loadCredentials(c.Context, c.String("region"))
			if err != nil {
				return err
			}
			key, err := redactionKey(c.String("ca-dir"), true, log)
			if err != nil {
				return err
			}
			redactor, err := newRedactor(c, key)
			if err != nil {
				return err
			}
			ca, err := loadCA(c.String("ca-dir"))
			if err != nil {
				return err
			}
			roots, err := upstreamRoots(c.String("upstream-ca"))
			if err != nil {
				return err
			}
			srv, err := proxy.New(proxy.Config{
				CA:            ca,
				UpstreamRoots: roots,
				Mode:          proxy.Record,
				Cassette:      cassette,
				Fresh:         c.Bool("fresh"),
				Upstream:      upstream,
				Region:        c.String("region"),
				Credentials:   creds,
				Redactor:      redactor,
				Log:           log,
			})
			if err != nil {
				return loadError(cassette, err)
			}
			return sc.serve(c.Context, c.String("listen"), srv, log, stderr, func(u string) {
				target := "AWS"
				if upstream != nil {
					target = upstream.String()
				}
				fmt.Fprintf(stderr, "metervcr: recording to %s (forwarding to %s) on %s\n", srv.Cassette(), target, u)
				if creds == nil {
					warnNoCredentials(stderr, log, "endpoint-mode calls", missing)
				}
				printHowToConnect(stderr, u, ca)
			})
		},
	}
}
