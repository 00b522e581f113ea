package proxy

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/metering"
)

// Server records or replays Marketplace Metering requests. It is an
// http.Handler, safe for concurrent use.
type Server struct {
	mode    Mode
	region  string
	maxBody int64
	now     func() time.Time
	// clockIsReal is set when now is time.Now: a request's checks then
	// read the time the request arrived instead of the clock again.
	clockIsReal bool
	log         *slog.Logger
	redactor    *redact.Redactor

	// Record.
	writer    *cassettes.Writer
	upstream  *upstream
	transport http.RoundTripper

	// inner handles one Metering request, behind Config.Middleware.
	inner http.Handler
	// Forward-proxy mode; nil when Config.CA is nil.
	forward http.Handler
	caFile  string // the certificate file of Config.CA, "" without one

	// Replay.
	matcher         *matcher.Matcher
	index           *matcher.Index
	responses       []response
	kept            keptResponses // the header sets responses share
	plans           map[int]any   // how to echo the live request into response i, when needed
	checks          Checks
	regions         map[string]bool // regions the cassette was recorded in
	recordMissing   bool
	recordedLatency bool

	problems problems // misses and refusals, for the log and the summary
	health   []byte   // the health answer's body
}

// New validates cfg and returns a Server: in Replay it loads and indexes
// the cassette, in Record it opens it for appending.
func New(cfg Config) (*Server, error) {
	if cfg.Redactor == nil {
		return nil, errors.New("proxy: Config.Redactor is required")
	}
	if (cfg.Mode == Record || cfg.RecordMissing) && !cfg.Redactor.Keyed() {
		return nil, errors.New("proxy: recording needs a Config.Redactor with a key: one without cannot pseudonymise account ids")
	}
	s := &Server{
		mode:     cfg.Mode,
		region:   cfg.Region,
		maxBody:  cfg.MaxBodyBytes,
		now:      cfg.Now,
		log:      cfg.Log,
		redactor: cfg.Redactor,
	}
	if s.region == "" {
		s.region = metering.DefaultRegion
	}
	if s.maxBody <= 0 {
		s.maxBody = metering.MaxBodyBytes
	}
	if s.now == nil {
		s.now, s.clockIsReal = time.Now, true
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	switch cfg.Mode {
	case Record:
		err = s.initRecord(cfg)
	case Replay:
		err = s.initReplay(cfg)
		if err == nil && cfg.RecordMissing {
			if cfg.Interactions != nil {
				return nil, errors.New("proxy: RecordMissing needs a cassette file to append to, not Config.Interactions")
			}
			s.recordMissing = true
			err = s.initRecord(cfg)
		}
	default:
		err = fmt.Errorf("proxy: unknown mode %v", cfg.Mode)
	}
	if err != nil {
		return nil, err
	}
	s.inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, intercepted := r.Context().Value(interceptedKey{}).(bool)
		s.serve(w, r, intercepted)
	})
	if cfg.Middleware != nil {
		s.inner = cfg.Middleware(s.inner)
	}
	s.health = healthBody(s.describe(cfg))
	if cfg.CA != nil {
		ports := cfg.ConnectPorts
		if ports == nil {
			ports = []string{"443"}
		}
		s.forward = s.forwardProxy(cfg.CA, ports)
		s.caFile = cfg.CA.CertFile
	}
	return s, nil
}

func (s *Server) initRecord(cfg Config) error {
	if cfg.Cassette == "" {
		return errors.New("proxy: Config.Cassette is required to record")
	}
	w, err := cassettes.OpenWriter(cfg.Cassette, cfg.Fresh)
	if err != nil {
		return err
	}
	s.writer = w
	for _, msg := range w.Warnings() {
		s.log.Warn("cassette changed before appending", "cassette", w.Path(), "change", msg)
	}
	signer := cfg.Signer
	if signer == nil {
		signer = v4.NewSigner()
	}
	s.upstream = &upstream{base: cfg.Upstream, credentials: cfg.Credentials, signer: signer, now: s.now}
	s.transport = cfg.Transport
	if s.transport == nil {
		s.transport = defaultTransport(cfg.UpstreamRoots)
	}
	return nil
}

// defaultTransport bounds every phase of an upstream call, so a stuck
// upstream cannot hold a client forever.
func defaultTransport(roots *x509.CertPool) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Never through HTTPS_PROXY: it may point at this very proxy.
	t.Proxy = nil
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.MaxIdleConnsPerHost = 64
	return t
}

// describe says what the server serves, for the health answer.
func (s *Server) describe(cfg Config) Health {
	h := Health{Mode: s.mode.String(), Cassette: s.Cassette()}
	if s.mode == Replay {
		n := len(s.responses)
		h.Interactions = &n
		switch {
		case cfg.Interactions == nil:
			h.Cassette = cassettes.Path(cfg.Cassette)
		case cfg.Cassette != "":
			h.Cassette = cfg.Cassette
		default:
			h.Cassette = demoName
		}
	}
	return h
}

// Mode returns the server's mode.
func (s *Server) Mode() Mode { return s.mode }

// Cassette returns the path of the cassette being recorded, "" in Replay.
func (s *Server) Cassette() string {
	if s.writer == nil {
		return ""
	}
	return s.writer.Path()
}

// exchange is one request on its way through the server.
type exchange struct {
	start     time.Time // when the server began reading it
	r         *http.Request
	operation string
	body      []byte
}

// outcome is what happened to an exchange, for the request log.
type outcome struct {
	action  string // "match", "record", "miss", "refused", "error"
	status  int
	index   int      // interaction index, -1 when none
	problem *problem // why a miss or refusal was not served, nil otherwise
}

// ServeHTTP serves both modes of the one listener: CONNECT and
// absolute-URL requests are forward-proxy traffic, HealthPath answers
// probes, anything else is a client that uses the proxy as its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isHealthProbe(r) {
		answerHealth(w, r, s.health, s.log)
		return
	}
	if r.Method == http.MethodConnect || r.URL.IsAbs() {
		if s.forward == nil {
			http.Error(w, "metervcr: forward-proxy mode is off (no CA configured); send requests to this address as an endpoint instead", http.StatusBadGateway)
			return
		}
		s.forward.ServeHTTP(w, r)
		return
	}
	s.inner.ServeHTTP(w, r)
}

// interceptedKey marks, in a request's context, a request that came
// through HTTPS_PROXY to the real host.
type interceptedKey struct{}

// serve reads the request, then records or replays it, and logs one line.
// intercepted requests came through HTTPS_PROXY to the real host and keep
// their own signature.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, intercepted bool) {
	start := time.Now()
	ex, err := s.read(w, r, start)
	var out outcome
	switch {
	case err != nil:
		out = s.fail(w, err)
	case s.mode == Record:
		out = s.record(w, &ex, intercepted)
	default:
		out = s.replay(w, &ex, intercepted)
	}
	// Misses, refusals and failures are warnings, so a log at warn level
	// shows only what went wrong; a miss or refusal is explained once, and
	// requests it stops again are counted at info.
	level, seen := slog.LevelInfo, 0
	if out.problem != nil {
		seen = s.problems.add(ex.operation, out.problem)
	}
	if out.action != "match" && out.action != "record" && seen <= 1 {
		level = slog.LevelWarn
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	op := ex.operation
	// One reading of the monotonic clock gives the latency, and the line's
	// time is the start plus it; the record holds its attributes inline:
	// the line allocates nothing beyond what the handler needs to format
	// it.
	end := start.Add(time.Since(start))
	rec := slog.NewRecord(end, level, "request", 0)
	rec.AddAttrs(slog.String("op", op), slog.String("action", out.action), slog.Int("status", out.status),
		slog.Duration("latency", end.Sub(start).Round(time.Microsecond)))
	if out.index >= 0 {
		rec.AddAttrs(slog.Int("interaction", out.index))
	}
	if p := out.problem; p != nil {
		addProblem(&rec, p, seen)
	}
	s.log.Handler().Handle(r.Context(), rec)
}

// addProblem adds to a request line why the request was not served: the
// error code, the closest recording, the reason and the setting that lets
// it through, the first time (or, seen 0, every time); later, how many
// requests the same reason has stopped.
func addProblem(rec *slog.Record, p *problem, seen int) {
	if seen > 1 {
		rec.AddAttrs(slog.Int("repeat", seen))
		return
	}
	if p.code != metering.ErrNoRecordedInteraction {
		rec.AddAttrs(slog.String("code", p.code))
	}
	if p.closest >= 0 {
		rec.AddAttrs(slog.Int("closest", p.closest))
	}
	rec.AddAttrs(slog.String("reason", p.reason+p.detail))
	if p.relax != "" {
		rec.AddAttrs(slog.String("relax", p.relax))
	}
}

// read buffers the body within the size limit and checks that the request
// names a Metering operation with POST. The body is parsed later, once: by
// the matcher in replay, by isJSONObject in record.
func (s *Server) read(w http.ResponseWriter, r *http.Request, start time.Time) (exchange, error) {
	ex := exchange{start: start, r: r, operation: metering.HeaderValue(r.Header, metering.HeaderTarget)}
	if r.ContentLength > s.maxBody {
		return ex, errTooLarge(s.maxBody)
	}
	body, err := readRequestBody(w, r, s.maxBody)
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return ex, errTooLarge(s.maxBody)
		}
		return ex, &statusError{status: http.StatusBadRequest, code: metering.ErrSerialization, msg: "reading request body: " + err.Error()}
	}
	ex.body = body
	op, ok := metering.OperationFromTarget(ex.operation)
	if !ok {
		return ex, errUnknownOperation(ex.operation)
	}
	ex.operation = op
	if ct := metering.HeaderValue(r.Header, "Content-Type"); ct != "" && ct != metering.ContentType {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != metering.ContentType {
			// AWS answers a JSON 1.1 service's request of another media
			// type as an operation it does not know.
			return ex, &statusError{status: http.StatusBadRequest, code: metering.ErrUnknownOperation,
				msg: fmt.Sprintf("Content-Type %q is not %s, the media type of Marketplace Metering requests", ct, metering.ContentType)}
		}
	}
	if r.Method != http.MethodPost {
		return ex, &statusError{status: http.StatusMethodNotAllowed, code: metering.ErrUnknownOperation,
			msg: fmt.Sprintf("Marketplace Metering accepts only POST, got %s", r.Method)}
	}
	return ex, nil
}

// readRequestBody reads the request body, at most limit bytes. A body of known
// length (the SDKs send Content-Length) is read into a buffer of exactly
// its size; net/http stops it at that length.
func readRequestBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength < 0 || r.ContentLength > limit {
		return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// errNotJSON answers a body that is not a JSON object, as the service does.
var errNotJSON = &statusError{status: http.StatusBadRequest, code: metering.ErrSerialization,
	msg: "request body is not a JSON object; Marketplace Metering takes application/x-amz-json-1.1 bodies"}

// isJSONObject reports whether b holds exactly one JSON object, as
// decoding it with cassettes.DecodeJSON tells. A valid document is an
// object when it opens with one, which is much cheaper to check; anything
// else is decoded.
func isJSONObject(b []byte) bool {
	if json.Valid(b) {
		return bytes.TrimLeft(b, " \t\r\n")[0] == '{'
	}
	doc, err := cassettes.DecodeJSON(b)
	_, ok := doc.(map[string]any)
	return err == nil && ok
}
