package main

import (
	"errors"
	"io/fs"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes/redact"
)

// The flags of user redaction rules, shared by record, replay, verify,
// redact and diff, so that every command applies the same rules.

func configFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "config", EnvVars: []string{"METERVCR_CONFIG"},
		Usage: "project configuration file with redaction rules; default: " + redact.ConfigFile + " in the working directory, when present",
	}
}

func redactHeaderFlag() cli.Flag {
	return &cli.StringSliceFlag{
		Name: "redact-header", EnvVars: []string{"METERVCR_REDACT_HEADERS"},
		Usage: "also redact this header, in requests and responses (e.g. X-Amzn-Trace-Id); repeatable",
	}
}

func redactFieldFlag() cli.Flag {
	return &cli.StringSliceFlag{
		Name: "redact-field", EnvVars: []string{"METERVCR_REDACT_FIELDS"},
		Usage: "also redact this JSON body field: Operation.path, *.path or a field name anywhere, optionally =secret|account-id|arn " +
			"(e.g. MeterUsage.UsageAllocations[].Tags[].Value, Nonce); repeatable",
	}
}

func keepFieldFlag() cli.Flag {
	return &cli.StringSliceFlag{
		Name: "keep-field", EnvVars: []string{"METERVCR_KEEP_FIELDS"},
		Usage: "store this field in clear although it is pseudonymised by default: CustomerAWSAccountId or LicenseArn; repeatable",
	}
}

// ruleFlags returns the flags redactionRules reads.
func ruleFlags() []cli.Flag {
	return []cli.Flag{configFlag(), redactHeaderFlag(), redactFieldFlag(), keepFieldFlag()}
}

// redactionRules returns the rules of the configuration file (--config, or
// .metervcr.yaml in the working directory when it exists) followed by those
// of the flags. A command without some of the flags reads them as empty.
func redactionRules(c *cli.Context) (redact.Rules, error) {
	var rules redact.Rules
	path := c.String("config")
	explicit := path != ""
	if !explicit {
		path = redact.ConfigFile
	}
	cfg, err := redact.LoadConfig(path)
	switch {
	case err == nil:
		rules = cfg.Redaction
	case !explicit && errors.Is(err, fs.ErrNotExist):
		// No project configuration: the defaults apply.
	case errors.Is(err, fs.ErrNotExist):
		return rules, usageError("%v; give an existing file to --config, or leave it out to use %s when present", err, redact.ConfigFile)
	default:
		return rules, usageError("%v; fix the file (see README: Auditing cassettes)", err)
	}
	flags := redact.Rules{Headers: c.StringSlice("redact-header"), Keep: c.StringSlice("keep-field")}
	for _, s := range c.StringSlice("redact-field") {
		f, err := redact.ParseFieldRule(s)
		if err != nil {
			return rules, usageError("--redact-field %s: %v", s, err)
		}
		flags.Fields = append(flags.Fields, f)
	}
	return rules.Merge(flags), nil
}

// newRedactor returns the Redactor for key with the user's rules; it
// replaces redact.New(key, nil, nil) wherever rules apply.
func newRedactor(c *cli.Context, key []byte) (*redact.Redactor, error) {
	rules, err := redactionRules(c)
	if err != nil {
		return nil, err
	}
	r, err := rules.Redactor(key)
	if err != nil {
		return nil, usageError("redaction rules: %v", err)
	}
	return r, nil
}

// newScanner returns the Scanner for the user's rules.
func newScanner(c *cli.Context) (*redact.Scanner, error) {
	rules, err := redactionRules(c)
	if err != nil {
		return nil, err
	}
	s, err := rules.Scanner()
	if err != nil {
		return nil, usageError("redaction rules: %v", err)
	}
	return s, nil
}
