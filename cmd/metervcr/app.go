package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
)

// Exit codes, as the README's Commands section documents them.
const (
	exitOK    = 0
	exitCheck = 1 // a check failed (verify)
	exitUsage = 2 // bad usage or bad input
)

// run builds the app, runs it with args and returns the exit code; the
// serving commands serve with the zero serveConfig. Only main exits.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, serveConfig{})
}

// runWith is run with the serving commands' configuration sc.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, sc serveConfig) int {
	// The request log goes to stderr, a line per request.
	buffered := newLogBuffer(stderr)
	defer buffered.Flush()
	stderr = buffered
	app := newApp(stdout, stderr, sc)
	args, err := interspersed(app, args)
	if err == nil {
		err = app.RunContext(ctx, args)
	}
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
	// Usage errors are ExitCoders by now; this is an action's own failure.
	fmt.Fprintln(stderr, "metervcr: "+err.Error())
	return exitUsage
}

// cliName is the program's name in help and messages.
const cliName = "metervcr"

// newApp returns the command line app, writing to stdout and stderr; its
// serving commands serve as sc says.
func newApp(stdout, stderr io.Writer, sc serveConfig) *cli.App {
	app := &cli.App{
		Name:  cliName,
		Usage: "record and replay AWS Marketplace Metering API calls for offline tests",
		Description: "metervcr sits between your application and metering.marketplace.<region>.amazonaws.com.\n" +
			"Record a session once against AWS, commit the redacted cassette, then replay it in CI\n" +
			"with no credentials and no network. Point clients at the proxy with\n" +
			"  aws --endpoint-url http://127.0.0.1:8089 ...  or  AWS_ENDPOINT_URL_MARKETPLACE_METERING=http://127.0.0.1:8089\n\n" +
			"Start here: metervcr replay   (serves the built-in demo cassette)",
		Writer:    stdout,
		ErrWriter: stderr,
		// Exit codes are decided by run, never inside the library.
		ExitErrHandler: func(*cli.Context, error) {},
		// The help command below replaces urfave/cli's, which exits 3 for
		// an unknown command; with it, the library adds no help flag.
		HideHelpCommand: true,
		Flags: []cli.Flag{cli.HelpFlag,
			&cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print metervcr's version, as the version command does"}},
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				printVersion(stdout)
				return nil
			}
			return cli.ShowAppHelp(c)
		},
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			recordCommand(stderr, sc),
			replayCommand(stderr, sc),
			mockCommand(stderr, sc),
			caCommand(stdout),
			convertCommand(stdout, stderr),
			completionCommand(stdout),
			inspectCommand(stdout),
			verifyCommand(stdout, stderr),
			redactCommand(stdout, stderr),
			diffCommand(stdout),
			versionCommand(stdout),
			helpCommand(),
		},
	}
	onUsageError(app.Commands)
	app.OnUsageError = usageHint
	return app
}

// helpName is the help command. interspersed turns "help COMMAND..." into
// "COMMAND... --help", so the command itself only lists the commands.
const helpName = "help"

func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      helpName,
		Usage:     "show the commands, or the usage and flags of one command",
		UsageText: "metervcr help [COMMAND]",
		HideHelp:  true,
		Action:    cli.ShowAppHelp,
	}
}

// onUsageError makes every command answer a flag it cannot parse (a bad
// number, say) with a short usage error rather than its whole help.
func onUsageError(commands []*cli.Command) {
	for _, c := range commands {
		c.OnUsageError = usageHint
		onUsageError(c.Subcommands)
	}
}

// usageHint turns a flag parsing error into a usage error that says how to
// see the command's usage.
func usageHint(c *cli.Context, err error, _ bool) error {
	name := c.App.Name
	if c.Command != nil && c.Command.HelpName != "" {
		name = c.Command.HelpName
	}
	return usageError("%v\n%s", err, helpHint(name))
}

// Flags shared by the serving commands. Each is also read from the
// environment variable named in its help.
func listenFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "listen", Value: "127.0.0.1:8089", EnvVars: []string{"METERVCR_LISTEN"},
		Usage: "address to serve on; point clients at http://ADDR",
	}
}

// cassetteEnv is the environment variable of --cassette.
const cassetteEnv = "METERVCR_CASSETTE"

func cassetteFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "cassette", EnvVars: []string{cassetteEnv}, Usage: usage}
}

// cassetteArg returns the cassette that record or replay was given: the
// one positional argument, else --cassette (or its environment variable),
// else "". A positional path wins over the environment; given with a
// --cassette that names another file, it is a usage error. A --cassette
// equal to the environment's value cannot be told from it, and then the
// positional path wins too. A directory is refused.
func cassetteArg(c *cli.Context) (string, error) {
	name := c.String("cassette")
	switch c.NArg() {
	case 0:
	case 1:
		arg := c.Args().First()
		if name != "" && name != os.Getenv(cassetteEnv) && cassettes.Path(name) != cassettes.Path(arg) {
			return "", usageError("--cassette %s and the path %s name two cassettes; give one of them", name, arg)
		}
		name = arg
	default:
		return "", usageError("%s takes one cassette, got %d arguments: %s\n%s",
			c.Command.Name, c.NArg(), strings.Join(c.Args().Slice(), " "), helpHint(c.Command.HelpName))
	}
	if name == "" {
		return "", nil
	}
	if err := notDirectory(name); err != nil {
		return "", err
	}
	return name, nil
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
