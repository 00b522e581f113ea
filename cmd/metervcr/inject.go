package main

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/proxy/inject"
)

// The fault injection flags of replay and mock.

func injectFlag() cli.Flag {
	return &cli.StringFlag{Name: "inject", EnvVars: []string{"METERVCR_INJECT"},
		Usage: "answer a share of requests with faults, to test retries offline: " +
			"throttle=0.1,internal-error=0.02,reset=0.01,unprocessed=0.1,latency=200ms (latency=200ms@0.5 delays half the requests)"}
}

func seedFlag() cli.Flag {
	return &cli.Int64Flag{Name: "seed", EnvVars: []string{"METERVCR_SEED"}, DefaultText: "random, printed at start",
		Usage: "seed of --inject: the same seed gives the same faults for the same sequence of requests"}
}

// withInject wraps handler in the faults --inject asks for and says which,
// with the seed that repeats them. Without --inject it returns handler.
func withInject(c *cli.Context, handler http.Handler, log *slog.Logger, stderr io.Writer) (http.Handler, error) {
	in, err := inject.Parse(c.String("inject"))
	if err != nil {
		return nil, usageError("--inject: %v", err)
	}
	if !in.Enabled() {
		return handler, nil
	}
	seed := c.Int64("seed")
	if !c.IsSet("seed") {
		// Small enough to retype; any int64 works.
		seed = rand.Int64N(1_000_000)
	}
	in.Log = log
	fmt.Fprintf(stderr, "metervcr: injecting faults %s with --seed %d; the same seed and calls give the same faults\n", in, seed)
	return in.Wrap(handler, seed), nil
}
