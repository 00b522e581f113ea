package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/internal/hugepage"
	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/metering"
)

// response is a recorded response ready to serve: its headers are built
// once at load, not per request. It is one cache line, and its request id's
// bytes sit just before its body's, so that serving a response of a large
// cassette touches little memory.
type response struct {
	// reqID is the recorded X-Amzn-Requestid when it has one value, as
	// the header's values; its bytes are in the index's text, just before
	// body's.
	reqID   [1]string
	body    []byte        // read only
	latency time.Duration // recorded upstream latency
	// shared numbers the set of headers many responses have alike
	// (content type, error type, length) in keptResponses.shared; a
	// request id of several values is among them. A number rather than a
	// pointer leaves the garbage collector one pointer fewer to trace per
	// response.
	shared int32
	status int32
	hasID  bool // reqID holds the request id
}

// A response fits in one cache line (64 bytes on 64-bit platforms); the
// build fails if it grows past one.
var _ = [64 - unsafe.Sizeof(response{})]struct{}{}

// headerValues is one header of a prepared response.
type headerValues struct {
	name   string
	values []string
}

// keptHeaders are the recorded response headers replay serves. Date is never among them: SDKs correct their signing clock
// from it, so net/http's current Date is sent instead.
var keptHeaders = [...]string{"Content-Type", metering.HeaderErrorType, metering.HeaderRequestID}

func (s *Server) initReplay(cfg Config) error {
	if cfg.Interactions == nil && cfg.Cassette == "" {
		return errors.New("proxy: Config.Cassette or Config.Interactions is required to replay")
	}
	mc := matcher.Default(nil)
	if cfg.Match != nil {
		mc = *cfg.Match
	}
	mc.Redactor = cfg.Redactor
	m, err := matcher.New(mc)
	if err != nil {
		return err
	}
	s.matcher, s.index = m, matcher.NewEmptyIndex(m)
	s.index.Once = cfg.Once
	s.checks, s.recordedLatency = cfg.Checks, cfg.RecordedLatency
	s.regions = map[string]bool{}
	if cfg.Interactions != nil {
		s.responses = hugepage.Grow[response](nil, len(cfg.Interactions))
		for _, in := range cfg.Interactions {
			if err := s.addRecorded(in); err != nil {
				return err
			}
		}
		return nil
	}
	// The cassette is read one interaction at a time, and only what
	// replay serves from is kept: a large cassette never lives in memory
	// as a whole, decoded.
	c, err := cassettes.Stream(cfg.Cassette, func(in *cassettes.Interaction) error {
		if err := s.addRecorded(in); err != nil {
			return fmt.Errorf("%s: %w", cassettes.Path(cfg.Cassette), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.Torn != nil && c.Torn.Interaction == 0 {
		return fmt.Errorf("%s: %w (%d bytes, never answered)", c.Path, cassettes.ErrOnlyTorn, len(c.Torn.Data))
	}
	for _, msg := range c.Warnings {
		s.log.Warn("cassette", "cassette", c.Path, "problem", msg)
	}
	return nil
}

// addRecorded indexes a recorded interaction and prepares its response.
// Only the lookup key and the prepared response are kept, not the
// interaction.
func (s *Server) addRecorded(in *cassettes.Interaction) error {
	resp := response{status: int32(in.Response.Code), latency: in.Response.Duration}
	var shared []headerValues
	var id string
	for _, k := range keptHeaders {
		v := in.Response.Headers.Values(k)
		switch {
		case len(v) == 0:
		case k == metering.HeaderRequestID && len(v) == 1:
			resp.hasID, id = true, v[0]
		default:
			shared = append(shared, headerValues{http.CanonicalHeaderKey(k), v})
		}
	}
	// The request id and body are kept just after the lookup key, which a
	// hit has just compared: serving them reads memory already at hand.
	kept, err := s.index.AddWith(in, id+in.Response.Body)
	if err != nil {
		return err
	}
	resp.reqID[0], resp.body = kept[:len(id)], readOnlyBytes(kept[len(id):])
	i := len(s.responses)
	if u, err := url.Parse(in.Request.URL); err == nil {
		if region, ok := metering.ParseHost(u.Host); ok {
			s.regions[region] = true
		}
	}
	shared = append(shared, headerValues{"Content-Length", []string{strconv.Itoa(len(resp.body))}})
	resp.shared = s.kept.set(shared)
	if rw := rewrites[s.index.Recorded(i).Operation]; rw != nil {
		if plan := rw.prepare(in); plan != nil {
			if s.plans == nil {
				s.plans = map[int]any{}
			}
			s.plans[i] = plan
		}
	}
	s.responses = append(hugepage.Grow(s.responses, 1), resp)
	return nil
}

// keptResponses holds the header sets that many prepared responses share,
// each kept once.
type keptResponses struct {
	shared [][]headerValues
	sets   map[string]int32 // number in shared of each header set
}

// readOnlyBytes returns the bytes of s, which must never be written.
func readOnlyBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// set returns the number of the header set equal to hs, kept once.
func (k *keptResponses) set(hs []headerValues) int32 {
	var id strings.Builder
	for _, h := range hs {
		id.WriteString(h.name)
		for _, v := range h.values {
			id.WriteByte(0)
			id.WriteString(v)
		}
		id.WriteByte('\n')
	}
	if n, ok := k.sets[id.String()]; ok {
		return n
	}
	if k.sets == nil {
		k.sets = map[string]int32{}
	}
	n := int32(len(k.shared))
	k.sets[id.String()] = n
	k.shared = append(k.shared, hs)
	return n
}

// replay answers the exchange from the cassette.
func (s *Server) replay(w http.ResponseWriter, ex *exchange, intercepted bool) outcome {
	i, failed, err := s.checkAndMatch(ex, intercepted)
	if failed != nil {
		return s.refuse(w, ex.operation, failed)
	}
	if err != nil {
		if errors.Is(err, matcher.ErrBody) {
			return s.fail(w, errNotJSON)
		}
		miss := (*matcher.Miss)(nil)
		switch {
		case !errors.As(err, &miss):
			return s.fail(w, &statusError{status: http.StatusBadRequest, code: metering.ErrSerialization, msg: err.Error()})
		case s.recordMissing && s.canForward(intercepted):
			return s.record(w, ex, intercepted)
		case s.recordMissing:
			return s.refuseUnsigned(w, ex)
		}
		return s.miss(w, miss)
	}
	resp := &s.responses[i]
	if s.recordedLatency && resp.latency > 0 {
		select {
		case <-time.After(resp.latency):
		case <-ex.r.Context().Done():
		}
	}
	body := s.echo(i, ex.operation, ex.body)
	h := w.Header()
	for _, hv := range s.kept.shared[resp.shared] {
		h[hv.name] = hv.values
	}
	if resp.hasID {
		h[metering.HeaderRequestID] = resp.reqID[:]
	}
	if len(body) != len(resp.body) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(int(resp.status))
	w.Write(body) // a failed write means the client left
	return outcome{action: "match", status: int(resp.status), index: i}
}

// miss answers a request that matches no recording with 404
// NoRecordedInteraction, naming the closest recording and the fields that
// differ.
func (s *Server) miss(w http.ResponseWriter, m *matcher.Miss) outcome {
	reason := m.Error()
	writeError(w, http.StatusNotFound, metering.ErrNoRecordedInteraction, "metervcr: "+reason)
	return outcome{action: "miss", status: http.StatusNotFound, index: -1,
		problem: &problem{miss: true, code: metering.ErrNoRecordedInteraction, reason: reason, closest: m.Closest}}
}

// Summary describes a replay run: requests that missed or were refused,
// and recorded interactions never served. It is empty in Record.
type Summary struct {
	Misses []string // operation of each missed request, in arrival order
	// Refused is the operation of each request refused by the AWS checks
	// (Config.Checks), in arrival order.
	Refused []string
	// Problems lists the misses and refusals once per operation and
	// reason, in the order they first happened, with their counts.
	Problems []Problem
	// Unlisted counts the misses and refusals left out of Problems, whose
	// length is bounded.
	Unlisted int
	Unused   []Unused
	// KeyedTokens counts requests whose token matched only the keyed
	// placeholder an earlier metervcr recorded, which only the redaction
	// key matches.
	KeyedTokens int64
}

// Unused is a recorded interaction that no request used.
type Unused struct {
	Index     int
	Operation string
}

// Summary returns what the replay run has served so far.
func (s *Server) Summary() Summary {
	if s.index == nil {
		return Summary{}
	}
	var sum Summary
	s.problems.fill(&sum)
	for _, i := range s.index.Unused() {
		sum.Unused = append(sum.Unused, Unused{Index: i, Operation: s.index.Recorded(i).Operation})
	}
	sum.KeyedTokens = s.index.LegacyMatches()
	return sum
}

// String prints the summary for people: a line of counts, then a line per
// distinct miss or refusal.
func (sum Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d request(s) missed", len(sum.Misses))
	if len(sum.Misses) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(sum.Misses, ", "))
	}
	fmt.Fprintf(&b, "; %d recorded interaction(s) never used", len(sum.Unused))
	if len(sum.Unused) > 0 {
		parts := make([]string, len(sum.Unused))
		for i, u := range sum.Unused {
			parts[i] = fmt.Sprintf("%d %s", u.Index, u.Operation)
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if len(sum.Refused) > 0 {
		fmt.Fprintf(&b, "; %d request(s) refused by the AWS checks (%s)", len(sum.Refused), strings.Join(sum.Refused, ", "))
	}
	if sum.KeyedTokens > 0 {
		fmt.Fprintf(&b, "; %d request(s) matched a token only through its keyed placeholder, which needs the redaction key:"+
			" to replay on machines without it, run once where the key is: metervcr redact --token TOKEN CASSETTE", sum.KeyedTokens)
	}
	for _, p := range sum.Problems {
		b.WriteString("\n  " + p.String())
	}
	if sum.Unlisted > 0 {
		fmt.Fprintf(&b, "\n  and %d more request(s) for reasons not listed", sum.Unlisted)
	}
	return b.String()
}
