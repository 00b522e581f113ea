package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// Exit codes fixed by SPEC "Commands".
const (
	exitOK    = 0
	exitCheck = 1 // a check failed (verify)
	exitUsage = 2 // bad usage or bad input
)

// run builds the app, runs it with args and returns the exit code. Only
// main exits.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The request log goes to stderr, a line per request.
	buffered := newLogBuffer(stderr)
	defer buffered.Flush()
	stderr = buffered
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "metervcr: "+msg)
		}
		return ec.ExitCode()
	}
	// Flag parsing and unknown commands: urfave/cli has already shown help.
	fmt.Fprintln(stderr, "metervcr: "+err.Error())
	return exitUsage
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "metervcr",
		Usage: "record and replay AWS Marketplace Metering API calls for offline tests",
		Description: "metervcr sits between your application and metering.marketplace.<region>.amazonaws.com.\n" +
			"Record a session once against AWS, commit the redacted cassette, then replay it in CI\n" +
			"with no credentials and no network. Point clients at the proxy with\n" +
			"  aws --endpoint-url http://127.0.0.1:8089 ...  or  AWS_ENDPOINT_URL_MARKETPLACE_METERING=http://127.0.0.1:8089\n\n" +
			"Start here: metervcr replay   (serves the built-in demo cassette)",
		Writer:    stdout,
		ErrWriter: stderr,
		// Exit codes are decided by run, never inside the library.
		ExitErrHandler:       func(*cli.Context, error) {},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			recordCommand(stderr),
			replayCommand(stderr),
			mockCommand(stderr),
			caCommand(stdout),
			convertCommand(stdout, stderr),
			completionCommand(stdout),
			inspectCommand(stdout),
			verifyCommand(stdout, stderr),
			redactCommand(stdout, stderr),
			diffCommand(stdout),
			versionCommand(stdout),
		},
	}
}

// Flags shared by the serving commands. Each is also read from the
// environment variable named in its help.
func listenFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "listen", Value: "127.0.0.1:8089", EnvVars: []string{"METERVCR_LISTEN"},
		Usage: "address to serve on; point clients at http://ADDR",
	}
}

func caDirFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "ca-dir", Value: defaultStateDir(), EnvVars: []string{"METERVCR_CA_DIR"},
		Usage: "directory for metervcr's local state: the CA of forward-proxy mode (ca.pem, ca-key.pem) and the placeholder key (redaction.key) that keeps redacted values stable across recordings",
	}
}

func defaultStateDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".metervcr"
	}
	return filepath.Join(home, ".metervcr")
}

// usageError is bad input: exit 2 with a message that says what to do.
func usageError(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), exitUsage)
}
