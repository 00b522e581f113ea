package cassettes

import (
	_ "embed"
	"fmt"
)

// demoYAML is the built-in demo cassette, recorded through the proxy
// against the test fake of the service (regenerate with make demo).
//
//go:embed demo.yaml
var demoYAML []byte

// The MeterUsage call the demo cassette answers, for the command line's
// ready-to-paste example.
const (
	DemoProduct   = "prodcode123example"
	DemoDimension = "requests"
	DemoQuantity  = 10
)

// Demo returns the built-in demo cassette. Its pseudonyms of account ids
// are keyed with redact.DemoKey; its tokens have keyless placeholders.
func Demo() (*Cassette, error) {
	c, err := Parse(demoYAML)
	if err != nil {
		return nil, fmt.Errorf("demo cassette: %w", err)
	}
	c.Path = "demo.yaml"
	return c, nil
}
