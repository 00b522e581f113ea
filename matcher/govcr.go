package matcher

import (
	"bytes"
	"io"
	"net/http"

	"gopkg.in/dnaeon/go-vcr.v2/cassette"
)

// GoVCR returns a go-vcr v2 matcher that matches as metervcr replay does,
// with the rules of cfg: method, path, query, X-Amz-Target and the JSON body
// compared as data, ignoring signatures, dates, SDK headers and the body
// fields cfg ignores. Give it to a go-vcr v2 recorder to replay metervcr
// cassettes in-process, with no proxy:
//
//	rec, err := recorder.NewAsMode("testdata/metering", recorder.ModeReplaying, nil)
//	...
//	match, err := matcher.GoVCR(matcher.Default(nil))
//	...
//	rec.SetMatcher(match)
//	client := marketplacemetering.NewFromConfig(cfg, func(o *marketplacemetering.Options) {
//		o.HTTPClient = &http.Client{Transport: rec}
//	})
//
// go-vcr, not metervcr, then decides which of several matching recordings
// answers: each is served once, in recorded order, unless the recorder's
// SetReplayableInteractions(true) lets the first one repeat. Requests that
// carry real tokens match their keyless placeholders with any Redactor, or
// none; buyer account ids, and tokens recorded when their placeholders were
// keyed, match only when cfg.Redactor is keyed with the recording's key.
// Requests that carry the placeholders match without it.
func GoVCR(cfg Config) (cassette.Matcher, error) {
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return m.GoVCR(), nil
}

// GoVCR returns m as a go-vcr v2 matcher; see the function GoVCR.
func (m *Matcher) GoVCR() cassette.Matcher {
	return func(r *http.Request, rec cassette.Request) bool {
		return m.MatchHTTP(r, Request{Method: rec.Method, URL: rec.URL, Header: rec.Headers, Body: []byte(rec.Body)})
	}
}

// MatchHTTP reports whether the live request r matches the recorded
// request rec. It reads r's body and puts back an unread copy, as go-vcr's
// matchers must, so it can be called once per recorded interaction. It is
// the building block for matchers of other go-vcr versions, whose recorded
// request types differ; for go-vcr v3 and v4:
//
//	recorder.WithMatcher(func(r *http.Request, i cassette.Request) bool {
//		return m.MatchHTTP(r, matcher.Request{Method: i.Method, URL: i.URL, Header: i.Headers, Body: []byte(i.Body)})
//	})
//
// A request whose body cannot be read or is not a JSON object matches
// nothing.
func (m *Matcher) MatchHTTP(r *http.Request, rec Request) bool {
	body, err := readAndRestore(r)
	if err != nil {
		return false
	}
	live := Request{Method: r.Method, URL: r.URL.String(), Header: r.Header, Body: body}
	got, err := m.Normalize(live)
	if err != nil {
		return false
	}
	want, err := m.Normalize(rec)
	if err != nil {
		return false
	}
	if got.Key == want.Key {
		return true
	}
	if m.legacy == nil {
		return false
	}
	old, err := m.legacy.Normalize(live)
	return err == nil && old.Key == want.Key
}

// readAndRestore returns the body of r and replaces it with an unread copy.
func readAndRestore(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close() // fully read; its close error tells nothing more
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return body, nil
}
