package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/proxy"
)

func caCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "ca",
		Usage: "manage the local CA that forward-proxy mode (HTTPS_PROXY) intercepts Metering hosts with",
		// Help is metervcr help ca, or --help; a help subcommand would be
		// a second way that the command line refuses as unknown.
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name:      "init",
			Usage:     "create the CA in --ca-dir (record and replay also create it on first use)",
			UsageText: "metervcr ca init [--ca-dir DIR]",
			Flags:     []cli.Flag{caDirFlag()},
			Action: func(c *cli.Context) error {
				ca, err := loadCA(c.String("ca-dir"))
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "CA certificate: %s\n", ca.CertFile)
				fmt.Fprintf(stdout, "Trust it in applications that reach Metering through metervcr:\n")
				fmt.Fprintf(stdout, "  export AWS_CA_BUNDLE=%s   # AWS CLI and SDKs\n", ca.CertFile)
				fmt.Fprintf(stdout, "  export SSL_CERT_FILE=%s   # Go programs\n", ca.CertFile)
				return nil
			},
		}},
	}
}

// loadCA loads the CA in dir, creating it on first use.
func loadCA(dir string) (*proxy.CA, error) {
	ca, err := proxy.LoadCA(dir, true)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return ca, nil
}

func upstreamCAFlag() cli.Flag {
	return &cli.StringFlag{Name: "upstream-ca", EnvVars: []string{"METERVCR_UPSTREAM_CA"},
		Usage: "PEM file of extra CA certificates to trust for the upstream (a staging endpoint with its own CA); the system roots are always trusted"}
}

// upstreamRoots returns the system roots plus the certificates in file,
// or nil (the system roots) when file is empty.
func upstreamRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, usageError("--upstream-ca: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageError("--upstream-ca %s holds no PEM certificate", file)
	}
	return pool, nil
}

// printHowToConnect tells people how to reach the proxy in either mode.
func printHowToConnect(w io.Writer, url string, ca *proxy.CA) {
	fmt.Fprintf(w, "metervcr: endpoint mode: aws --endpoint-url %s ...  or  export AWS_ENDPOINT_URL_MARKETPLACE_METERING=%s\n", url, url)
	fmt.Fprintf(w, "metervcr: forward-proxy mode, for applications you cannot change:\n")
	fmt.Fprintf(w, "  export HTTPS_PROXY=%s AWS_CA_BUNDLE=%s SSL_CERT_FILE=%s\n", url, ca.CertFile, ca.CertFile)
}
