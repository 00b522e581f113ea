package proxy

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/matcher"
)

// Mode says whether the server records or replays.
type Mode int

const (
	// Replay serves interactions from a cassette and never dials out.
	Replay Mode = iota
	// Record forwards requests to AWS and appends each exchange.
	Record
)

func (m Mode) String() string {
	switch m {
	case Replay:
		return "replay"
	case Record:
		return "record"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "record" or "replay".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "replay":
		return Replay, nil
	case "record":
		return Record, nil
	}
	return 0, fmt.Errorf("unknown mode %q: want record or replay", s)
}

// Config configures a Server. Zero values are documented per field.
type Config struct {
	// Mode is Replay (the zero value) or Record.
	Mode Mode

	// Cassette is the cassette file: read in Replay unless Interactions is
	// set, appended to in Record. ".yaml" is appended when missing.
	Cassette string
	// Interactions, in Replay, are served instead of reading Cassette (the
	// embedded demo cassette uses this). Cassette then only names them in
	// the health answer (HealthPath); empty names them "built-in demo".
	Interactions []*cassettes.Interaction
	// Fresh, in Record, starts an empty cassette instead of appending.
	Fresh bool

	// Upstream, in Record, is dialled instead of the real AWS host; the
	// Host header and the signature stay those of the real host. Nil
	// dials https://metering.marketplace.<region>.amazonaws.com.
	Upstream *url.URL
	// Region is used when a request's Authorization names none. Empty
	// means us-east-1.
	Region string
	// Credentials re-sign endpoint-mode requests for the real host in
	// Record (and in Replay with RecordMissing). Nil means the server
	// holds none: intercepted (forward-proxy) requests keep the client's
	// own signature and are recorded as usual, while endpoint-mode
	// requests are refused with 403 NoProxyCredentials, which SDKs do not
	// retry, and nothing is recorded for them.
	Credentials aws.CredentialsProvider
	// Signer re-signs upstream requests. Nil means the SDK's v4 signer.
	Signer v4.HTTPSigner
	// Transport sends upstream requests. Nil means a clone of
	// http.DefaultTransport with bounded timeouts that verifies TLS against
	// UpstreamRoots.
	Transport http.RoundTripper
	// UpstreamRoots verifies upstream TLS when Transport is nil. Nil means
	// the system roots.
	UpstreamRoots *x509.CertPool

	// CA intercepts HTTPS to Metering hosts in forward-proxy mode
	// (HTTPS_PROXY). Nil disables forward-proxy mode: CONNECT and
	// absolute-URL requests are then refused.
	CA *CA
	// ConnectPorts are the ports CONNECT may reach. Nil means 443 only, so
	// the proxy never relays to arbitrary ports.
	ConnectPorts []string

	// Redactor protects secrets before they reach disk and is applied by
	// the matcher to incoming requests. Required; recording (Record,
	// RecordMissing) needs one with a key (redact.Redactor.Keyed).
	Redactor *redact.Redactor
	// Match configures matching in Replay; its Redactor is set from
	// Redactor. The zero value means matcher.Default.
	Match *matcher.Config

	// RecordMissing, in Replay, forwards requests that match no recording
	// upstream (re-signed as in Record) and appends them to Cassette, as
	// VCR's new_episodes does. It needs what Record needs.
	RecordMissing bool
	// Once, in Replay, serves each recording at most once: a request
	// matching only recordings already served is a miss. The zero value
	// serves matches in recorded order and repeats the last one.
	Once bool
	// Checks, in Replay, selects the checks AWS would make (signature
	// shape, metering limits) before matching. The zero value checks
	// nothing; the command line defaults to ChecksAll.
	Checks Checks
	// RecordedLatency, in Replay, delays each answer by the upstream
	// latency recorded with it.
	RecordedLatency bool

	// Middleware, when set, wraps the handling of every Metering request,
	// endpoint-mode and intercepted alike (fault injection uses it). Nil
	// means none.
	Middleware func(http.Handler) http.Handler

	// MaxBodyBytes caps request bodies. Zero means the service's 1 MiB.
	MaxBodyBytes int64
	// Now is the clock for signing. Nil means time.Now.
	Now func() time.Time
	// Log receives one line per request. Nil discards.
	Log *slog.Logger
}
