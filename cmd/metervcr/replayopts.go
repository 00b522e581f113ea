package main

import (
	"net/url"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
)

// replayOptions reads replay's matching, checking and --record-missing
// flags into cfg; the credentials --record-missing may use are the
// caller's to load.
func replayOptions(c *cli.Context, cfg *proxy.Config) error {
	checks, err := proxy.ParseChecks(c.String("aws-checks"))
	if err != nil {
		return usageError("--aws-checks: %v", err)
	}
	cfg.Checks = checks
	switch c.String("latency") {
	case "none":
	case "recorded":
		cfg.RecordedLatency = true
	default:
		return usageError("--latency %q: want none or recorded", c.String("latency"))
	}
	switch c.String("order") {
	case "repeat-last":
	case "once":
		cfg.Once = true
	default:
		return usageError("--order %q: want repeat-last or once", c.String("order"))
	}
	match := matcher.Default(nil)
	match.IgnoreBody = append(metering.IgnoredBodyFields(), c.StringSlice("ignore-body")...)
	switch c.String("timestamps") {
	case "ignore":
	case "hour":
		match.TimestampsToHour = true
	default:
		return usageError("--timestamps %q: want ignore or hour", c.String("timestamps"))
	}
	if _, err := matcher.New(match); err != nil {
		return usageError("--ignore-body: %v", err)
	}
	cfg.Match = &match

	if !c.Bool("record-missing") {
		for _, f := range []string{"upstream", "upstream-ca"} {
			if c.IsSet(f) {
				return usageError("--%s applies to replay only with --record-missing", f)
			}
		}
		return nil
	}
	if cfg.Cassette == "" {
		return usageError("--record-missing needs --cassette: the built-in demo cassette cannot be appended to")
	}
	cfg.RecordMissing = true
	if cfg.Upstream, err = parseUpstream(c.String("upstream")); err != nil {
		return err
	}
	if cfg.UpstreamRoots, err = upstreamRoots(c.String("upstream-ca")); err != nil {
		return err
	}
	cfg.Region = c.String("region")
	return nil
}

// parseUpstream parses --upstream; "" means the real AWS host (nil).
func parseUpstream(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("--upstream %q is not a base URL; give one like https://staging.example.com or http://127.0.0.1:9000", s)
	}
	return u, nil
}
