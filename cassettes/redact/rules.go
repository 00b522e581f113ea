package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// Rules are a user's additions to the default redaction (metering's
// RedactedHeaders and RedactedBodyFields): more headers and body fields to protect, and pseudonymised
// fields to keep in clear. The zero value means the defaults alone. Rules
// come from the config file and from flags; Merge combines them.
type Rules struct {
	// Headers are more header names whose values are replaced whole, in
	// requests and responses, besides Authorization and
	// X-Amz-Security-Token.
	Headers []string `yaml:"headers"`
	// Fields are more JSON body fields to redact, in requests and
	// responses.
	Fields []FieldRule `yaml:"fields"`
	// Keep names fields that are pseudonymised by default and should be
	// stored in clear: CustomerAWSAccountId, LicenseArn, or one of their
	// default paths such as *.LicenseArn. Keeping one also stops verify
	// from reporting account ids in clear. Credentials cannot be kept.
	Keep []string `yaml:"keep"`
}

// FieldRule names a JSON body field to redact and the placeholder shape.
type FieldRule struct {
	// Path is Operation.path as ParseFieldPath reads it
	// ("MeterUsage.UsageAllocations[].Tags[].Value", "*.CustomerIdentifier"),
	// or a bare field name ("Nonce") for that field wherever it appears.
	Path string `yaml:"path"`
	// Kind is metering.KindSecret (the default: keyed), KindToken (keyless,
	// for values too random to guess), KindAccountID or KindARN.
	Kind string `yaml:"kind"`
}

// ParseFieldRule parses PATH or PATH=KIND, the form of the --redact-field
// flag.
func ParseFieldRule(s string) (FieldRule, error) {
	path, kind, _ := strings.Cut(strings.TrimSpace(s), "=")
	r := FieldRule{Path: path, Kind: kind}
	return r, r.check()
}

// UnmarshalYAML reads a rule written as a string (PATH or PATH=KIND) or as
// a mapping with path and kind.
func (r *FieldRule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		parsed, err := ParseFieldRule(n.Value)
		*r = parsed
		return err
	}
	type plain FieldRule
	if err := n.Decode((*plain)(r)); err != nil {
		return err
	}
	return r.check()
}

func (r *FieldRule) check() error {
	if r.Kind == "" {
		r.Kind = metering.KindSecret
	}
	switch r.Kind {
	case metering.KindSecret, metering.KindToken, metering.KindAccountID, metering.KindARN:
	default:
		return fmt.Errorf("field %s: unknown redaction kind %q: want %s, %s, %s or %s",
			r.Path, r.Kind, metering.KindSecret, metering.KindToken, metering.KindAccountID, metering.KindARN)
	}
	if r.Path == "" {
		return fmt.Errorf("empty field rule: want Operation.path, *.path or a field name")
	}
	if strings.Contains(r.Path, ".") {
		if _, err := cassettes.ParseFieldPath(r.Path); err != nil {
			return err
		}
	} else if strings.Contains(r.Path, "[") {
		return fmt.Errorf("field %q: a bare field name names the field wherever it is; use Operation.path for lists", r.Path)
	}
	return nil
}

// Merge returns rs with the rules of other appended.
func (rs Rules) Merge(other Rules) Rules {
	return Rules{
		Headers: append(append([]string(nil), rs.Headers...), other.Headers...),
		Fields:  append(append([]FieldRule(nil), rs.Fields...), other.Fields...),
		Keep:    append(append([]string(nil), rs.Keep...), other.Keep...),
	}
}

// Redactor returns a Redactor keyed with key that applies the defaults and
// rs. It fails on a key shorter than 16 bytes and on a rule that names
// nothing it can apply to.
func (rs Rules) Redactor(key []byte) (*Redactor, error) {
	headers := append([]string(nil), metering.RedactedHeaders()...)
	for _, h := range rs.Headers {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, " :") {
			return nil, fmt.Errorf("header %q is not a header name", h)
		}
		headers = append(headers, http.CanonicalHeaderKey(strings.TrimSpace(h)))
	}
	body, keepAccounts, keepARNs, err := rs.bodyRules()
	if err != nil {
		return nil, err
	}
	names := make(map[string]string)
	for _, f := range rs.Fields {
		if err := f.check(); err != nil {
			return nil, err
		}
		if strings.Contains(f.Path, ".") {
			body = append(body, metering.BodyRule{Path: f.Path, Kind: f.Kind})
		} else {
			names[f.Path] = f.Kind
		}
	}
	r, err := New(key, headers, body)
	if err != nil {
		return nil, err
	}
	r.names, r.keepAccounts, r.keepARNs = names, keepAccounts, keepARNs
	return r, nil
}

// Scanner returns a Scanner that reports what a Redactor with rs redacts.
func (rs Rules) Scanner() (*Scanner, error) {
	// The scanner only tells placeholders from clear values, which needs
	// no key; any valid one will do.
	r, err := rs.Redactor(make([]byte, 16))
	if err != nil {
		return nil, err
	}
	return &Scanner{policy: r.policy}, nil
}

// bodyRules returns the default body rules without those rs keeps, and
// which kinds of buyer identifiers are kept.
func (rs Rules) bodyRules() (rules []metering.BodyRule, keepAccounts, keepARNs bool, err error) {
	kept := make([]bool, len(rs.Keep))
	for _, rule := range metering.RedactedBodyFields() {
		keep := false
		for i, k := range rs.Keep {
			if k == rule.Path || k == lastSegment(rule.Path) {
				keep, kept[i] = true, true
			}
		}
		switch {
		case !keep:
			rules = append(rules, rule)
		case rule.Kind == metering.KindAccountID:
			keepAccounts = true
		case rule.Kind == metering.KindARN:
			keepARNs = true
		default:
			return nil, false, false, fmt.Errorf("%s cannot be kept: it is a credential, never stored in clear", rule.Path)
		}
	}
	for i, k := range rs.Keep {
		if !kept[i] {
			return nil, false, false, fmt.Errorf("keep %q names no field redacted by default; fields that can be kept: %s",
				k, strings.Join(append(metering.AccountIDFields(), metering.ARNFields()...), ", "))
		}
	}
	return rules, keepAccounts, keepARNs, nil
}

func lastSegment(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}

// ConfigFile is the name of the optional project configuration file that
// the command line reads from the working directory.
const ConfigFile = ".metervcr.yaml"

// Config is the project configuration file. It holds no secret: the
// placeholder key stays out of it, so that it can be committed beside the
// cassettes.
//
//	redaction:
//	  headers: [X-Amzn-Trace-Id]
//	  fields:
//	    - MeterUsage.UsageAllocations[].Tags[].Value
//	    - Nonce                                # this field wherever it is
//	    - {path: "*.CustomerIdentifier", kind: secret}
//	  keep: [LicenseArn]
type Config struct {
	// Redaction adds to the default redaction rules.
	Redaction Rules `yaml:"redaction"`
}

// LoadConfig reads and checks the configuration file at path. Unknown keys
// are errors, so that a misspelt rule is not silently ignored.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config %s: %w", path, err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes and checks a configuration document. An empty
// document is the zero Config.
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	if _, err := cfg.Redaction.Scanner(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
