package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(runWith(context.Background(), os.Args, os.Stdout, os.Stderr, processServeConfig()))
}

// processServeConfig returns how the metervcr process serves: with the
// default timeouts, and, once what a serving command serves is loaded,
// with the collector's headroom over the live heap (setGCHeadroom). The
// collector's percentage belongs to the whole process, so only main asks
// for it.
func processServeConfig() serveConfig {
	return serveConfig{beforeServe: func() { setGCHeadroom(os.Getenv("GOGC")) }}
}
