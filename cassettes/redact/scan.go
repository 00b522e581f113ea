package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// Finding is one problem in a cassette: a credential, token or buyer
// identifier stored in clear, or an interaction that is not a Marketplace
// Metering call. It never repeats a secret in full.
type Finding struct {
	// Interaction is the index of the interaction, from 0 as inspect
	// counts, or -1 when the finding is about the file as a whole.
	Interaction int
	// Where names the place: "request header Authorization",
	// "request url query X-Amz-Credential", "response body
	// Results[0].UsageRecord.CustomerAWSAccountId", "response body message".
	Where string
	// What says what is there: "AWS access key id AKIA…MPLE in clear".
	What string

	ruled bool // a redaction rule names the place; false for patterns and echoes
}

// String returns "interaction N: where: what", or "where: what" for the
// file as a whole: what verify prints after the cassette's path.
func (f Finding) String() string {
	if f.Interaction < 0 {
		return f.Where + ": " + f.What
	}
	return fmt.Sprintf("interaction %d: %s: %s", f.Interaction, f.Where, f.What)
}

// Scanner finds what must not be in a cassette: AWS access key ids, secret
// keys next to them, session tokens, SigV4 Authorization values,
// registration tokens and buyer account ids in clear, anywhere in headers,
// URLs, forms and bodies (nested JSON and error messages included), and
// interactions that are not Marketplace Metering calls. Placeholders are
// clean. A Scanner reports exactly what a Redactor with the same rules
// replaces. It is safe for concurrent use.
type Scanner struct {
	policy policy
}

// NewScanner returns a Scanner with the default redaction rules.
func NewScanner() *Scanner {
	s, err := Rules{}.Scanner()
	if err != nil {
		panic(err) // the defaults are valid; a test proves it
	}
	return s
}

// File scans the cassette at path (".yaml" appended when missing) and
// returns its findings and how many interactions it holds. A file that is
// not a valid cassette is a finding, and its text is still searched for
// credentials line by line; the error is for a file that cannot be read.
func (s *Scanner) File(path string) ([]Finding, int, error) {
	path = cassettes.Path(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: %w", path, cassettes.ErrNotFound)
	}
	if err != nil {
		return nil, 0, err
	}
	c, err := cassettes.Parse(data)
	if err != nil {
		// A YAML error may quote the text it choked on: mask what it quotes,
		// and keep it on one line.
		msg := s.policy.mask(strings.Join(strings.Fields(err.Error()), " "))
		return append([]Finding{{Interaction: -1, Where: "file", What: msg}}, s.Text(string(data))...), 0, nil
	}
	return s.Cassette(c), len(c.Interactions), nil
}

// Text scans free text line by line, for files that do not parse.
func (s *Scanner) Text(text string) []Finding {
	var out []Finding
	for n, line := range strings.Split(text, "\n") {
		pl := place{where: fmt.Sprintf("line %d", n+1), near: metering.HasAccessKeyID(line)}
		for _, h := range s.policy.hits(pl, line) {
			out = append(out, Finding{Interaction: -1, Where: pl.where, What: h.what})
		}
	}
	return out
}

// Cassette scans every interaction of c.
func (s *Scanner) Cassette(c *cassettes.Cassette) []Finding {
	var out []Finding
	for i, in := range c.Interactions {
		out = append(out, s.Interaction(i, in)...)
	}
	return out
}

// Interaction scans one interaction, whose index is i. It does not modify
// in.
func (s *Scanner) Interaction(i int, in *cassettes.Interaction) []Finding {
	out := structure(i, in)
	seen := make(map[string]bool)
	s.policy.each(in, func(pl place, v string, hs []hit) string {
		for _, h := range hs {
			f := Finding{Interaction: i, Where: pl.at(), What: h.what, ruled: pl.kind != ""}
			if !seen[f.String()] {
				seen[f.String()] = true
				out = append(out, f)
			}
		}
		return v
	})
	return out
}

// structure reports an interaction that is not a Marketplace Metering
// call: an X-Amz-Target naming none of the four operations, or a URL whose
// host is not a Metering host. A URL without a host (a path) is accepted:
// the cassette then says nothing about where the call went.
func structure(i int, in *cassettes.Interaction) []Finding {
	var out []Finding
	target := in.Request.Headers.Get(metering.HeaderTarget)
	if _, ok := metering.OperationFromTarget(target); !ok {
		what := "missing: not a Marketplace Metering call"
		if target != "" {
			what = fmt.Sprintf("%q is not a Marketplace Metering operation (want %s followed by one of %s)",
				target, metering.TargetPrefix, strings.Join(metering.Operations(), ", "))
		}
		out = append(out, Finding{Interaction: i, Where: "request header " + metering.HeaderTarget, What: what})
	}
	u, err := url.Parse(in.Request.URL)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a secret
		}
		out = append(out, Finding{Interaction: i, Where: "request url", What: "does not parse: " + err.Error()})
	case u.Host != "":
		if _, ok := metering.ParseHost(u.Host); !ok {
			out = append(out, Finding{Interaction: i, Where: "request url",
				What: fmt.Sprintf("host %q is not a Marketplace Metering host (want %s or another region's)", u.Host, metering.Host(metering.DefaultRegion))})
		}
	}
	return out
}
