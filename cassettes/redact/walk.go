package redact

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/internal/jsontext"
	"github.com/metervcr/metervcr/metering"
)

// visitFunc receives a place of an interaction, its value and what in it
// must not be stored in clear, and returns the value to keep there.
type visitFunc func(pl place, v string, hs []hit) string

// part is a part of an interaction that each visits, as a bit set.
type part uint8

const (
	partRequestHeaders part = 1 << iota
	partURL
	partForm
	partRequestBody
	partResponseHeaders
	partResponseBody

	allParts = partRequestHeaders | partURL | partForm | partRequestBody | partResponseHeaders | partResponseBody
)

// each looks for what must not be stored in clear in every string of in
// that could hold a secret: request headers, URL and form, request body
// (every string of a JSON body, nested ones included), then response
// headers and body. Values that the request holds at places rules protect
// are also looked for in the response, which may echo them (in an error
// message, for instance). It calls fn for every value in which it finds
// something, in that order; a value fn returns changed is written back,
// and a JSON body is re-encoded only when one of its values changed. It
// returns the parts in which it found something.
func (p *policy) each(in *cassettes.Interaction, fn visitFunc) part {
	return p.eachOf(in, allParts, fn)
}

// eachOf is each restricted to the parts in parts. What each finds in a
// part depends on that part alone, but for the operation (named by the
// request headers) and the echoes of protected request values (found in
// the request parts).
func (p *policy) eachOf(in *cassettes.Interaction, parts part, fn visitFunc) part {
	op, _ := metering.OperationFromTarget(in.Request.Headers.Get(metering.HeaderTarget))
	var echoes []echo
	var cur, found part // the part being visited; parts with hits
	use := func(pl place, v string, hs []hit) string {
		found |= cur
		return fn(pl, v, hs)
	}
	request := walker{
		find: p.hits,
		use: func(pl place, v string, hs []hit) string {
			for _, h := range hs {
				if pl.kind != "" && h.end-h.start >= minEcho {
					echoes = append(echoes, echo{value: v[h.start:h.end], kind: h.kind, what: pl.name})
				}
			}
			return use(pl, v, hs)
		},
	}
	response := walker{
		find: func(pl place, v string) []hit { return echoHits(v, echoes, p.hits(pl, v)) },
		use:  use,
	}
	if cur = partRequestHeaders; parts&cur != 0 {
		p.eachHeader("request", in.Request.Headers, request)
	}
	if cur = partURL; parts&cur != 0 {
		p.eachURL(&in.Request, request)
	}
	if cur = partForm; parts&cur != 0 {
		eachForm(in.Request.Form, request)
	}
	if cur = partRequestBody; parts&cur != 0 {
		in.Request.Body = p.eachBody(op, "request body", in.Request.Body, request)
	}
	if cur = partResponseHeaders; parts&cur != 0 {
		p.eachHeader("response", in.Response.Headers, response)
	}
	if cur = partResponseBody; parts&cur != 0 {
		in.Response.Body = p.eachBody(op, "response body", in.Response.Body, response)
	}
	return found
}

// walker looks at the values of a part: find returns what must not be
// stored in clear in a value, and use, given a value and what find found
// in it, returns the value to keep.
type walker struct {
	find func(place, string) []hit
	use  func(place, string, []hit) string
}

// visit returns the value to keep at pl in place of v.
func (w walker) visit(pl place, v string) string {
	hs := w.find(pl, v)
	if len(hs) == 0 {
		return v
	}
	return w.use(pl, v, hs)
}

// eachHeader visits the values of h in name order. Values are looked at
// in map order and only those in which something is found are sorted,
// since most headers hold nothing.
func (p *policy) eachHeader(side string, h http.Header, w walker) {
	type entry struct {
		name string
		vals []string
	}
	var entries [16]entry
	all := entries[:0]
	// Whether the headers hold an access key id (near) matters only to a
	// value with a run of base64 shaped like a secret key (see hits); most
	// headers have none, and the test for key ids costs more.
	keyShaped, near := false, false
	for name, vals := range h {
		all = append(all, entry{name, vals})
		for _, v := range vals {
			keyShaped = keyShaped || hasRun(v, &base64Bytes, metering.SecretKeyLen)
		}
	}
	for _, e := range all {
		for _, v := range e.vals {
			near = near || keyShaped && metering.HasAccessKeyID(v)
		}
	}
	type found struct {
		name string
		i    int
		pl   place
		hs   []hit
	}
	var buf [4]found
	list := buf[:0]
	for _, e := range all {
		pl := p.headerPlace(side, http.CanonicalHeaderKey(e.name), near)
		for i, v := range e.vals {
			if hs := w.find(pl, v); len(hs) > 0 {
				list = append(list, found{e.name, i, pl, hs})
			}
		}
	}
	slices.SortFunc(list, func(a, b found) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return a.i - b.i
	})
	for _, f := range list {
		h[f.name][f.i] = w.use(f.pl, h[f.name][f.i], f.hs)
	}
}

// sortedNames returns the keys of m in order.
func sortedNames(m map[string][]string) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// eachURL visits the user information, path and query of the request URL.
// A URL that does not parse is visited as one string.
func (p *policy) eachURL(r *cassettes.Request, w walker) {
	fn := w.visit
	near := metering.HasAccessKeyID(r.URL)
	u, err := url.Parse(r.URL)
	if err != nil {
		r.URL = fn(place{where: "request url", name: "url", near: near}, r.URL)
		return
	}
	changed := false
	if pw, ok := u.User.Password(); ok {
		if v := fn(place{where: "request url password", name: "password", kind: metering.KindSecret}, pw); v != pw {
			u.User, changed = url.UserPassword(u.User.Username(), v), true
		}
	}
	if v := fn(place{where: "request url path", name: "path", near: near}, u.Path); v != u.Path {
		u.Path, u.RawPath, changed = v, "", true
	}
	q := u.Query()
	qChanged := false
	for _, name := range sortedNames(q) {
		pl := paramPlace("request url query", name, near)
		for i, v := range q[name] {
			if nv := fn(pl, v); nv != v {
				q[name][i], qChanged = nv, true
			}
		}
	}
	if qChanged {
		u.RawQuery, changed = q.Encode(), true
	}
	if changed {
		r.URL = u.String()
	}
}

func eachForm(form map[string][]string, w walker) {
	fn := w.visit
	near := false
	for _, vals := range form {
		for _, v := range vals {
			near = near || metering.HasAccessKeyID(v)
		}
	}
	for _, name := range sortedNames(form) {
		pl := paramPlace("request form", name, near)
		for i, v := range form[name] {
			if nv := fn(pl, v); nv != v {
				form[name][i] = nv
			}
		}
	}
}

// eachBody visits a body: every string and number of a JSON document, or
// the whole text of anything else. A JSON document in which find finds
// nothing is not decoded (see cleanJSON).
func (p *policy) eachBody(op, where, body string, w walker) string {
	if body == "" {
		return body
	}
	near := metering.HasAccessKeyID(body)
	if p.cleanJSON(op, body, near, w.find) {
		return body
	}
	fn := w.visit
	doc, _ := cassettes.DecodeJSON([]byte(body)) // nil when not JSON
	switch doc.(type) {
	case map[string]any, []any:
	default: // not JSON, or a bare JSON value: text
		return fn(place{where: where, name: "body", near: near}, body)
	}
	if !p.eachDoc(op, doc, where, near, fn) {
		return body
	}
	b, err := cassettes.EncodeJSON(doc)
	if err != nil {
		return body // cannot happen for a decoded document
	}
	return string(b)
}

// eachDoc visits every string and number of a decoded JSON document and
// reports whether fn changed any. A changed number becomes a string: it
// held an account id or a secret, and a placeholder is text. With where
// "" places are not labelled and objects are walked in map order, which
// is faster: the matcher's path needs no words for people.
func (p *policy) eachDoc(op string, doc any, where string, near bool, fn func(place, string) string) bool {
	changed := false
	labels := where != ""
	var walk func(v any, path []string, label string, set func(any))
	walk = func(v any, path []string, label string, set func(any)) {
		var s string
		switch t := v.(type) {
		case map[string]any:
			visit := func(k string) {
				sub := k
				if labels && label != "" {
					sub = label + "." + k
				}
				walk(t[k], append(path[:len(path):len(path)], k), sub, func(nv any) { t[k] = nv })
			}
			if !labels {
				for k := range t {
					visit(k) // replacing the value of a visited key is safe in a range
				}
				return
			}
			for _, k := range slices.Sorted(maps.Keys(t)) {
				visit(k)
			}
			return
		case []any:
			listPath := append([]string(nil), path...)
			if len(listPath) > 0 {
				listPath[len(listPath)-1] += "[]"
			}
			for i, el := range t {
				sub := label
				if labels {
					sub = label + "[" + strconv.Itoa(i) + "]"
				}
				walk(el, listPath, sub, func(nv any) { t[i] = nv })
			}
			return
		case string:
			s = t
		case json.Number:
			s = string(t)
		default:
			return
		}
		pl := place{where: where, name: "body", near: near}
		if len(path) > 0 {
			pl = p.fieldPlace(op, path, where, near)
		}
		if labels {
			pl.label = label
		}
		if nv := fn(pl, s); nv != s {
			set(nv)
			changed = true
		}
	}
	walk(doc, nil, "", func(nv any) {})
	return changed
}

// cleanJSON reports whether body is a JSON object or array in none of
// whose values find finds anything, reading its text instead of decoding
// it: most bodies hold nothing to redact, and decoding is most of the
// cost of looking at them. It answers only for a valid document of ASCII
// text without escapes and without repeated keys, whose strings are then
// their own text and whose values are those decoding keeps; for any other
// body it reports false, and the caller decodes it. It looks at every
// value that DecodeJSON and eachDoc would visit, at the same place.
func (p *policy) cleanJSON(op, body string, near bool, find func(place, string) []hit) bool {
	var r jsontext.Reader
	r.Reset(body)
	r.Space()
	if c := r.Peek(); c != '{' && c != '[' {
		return false
	}
	return jsontext.Leaves(body, func(path []string, v string, _ bool) bool {
		pl := place{name: "body", near: near}
		if len(path) > 0 {
			pl = p.fieldPlace(op, path, "", near)
		}
		return len(find(pl, v)) == 0
	})
}
