package cassettes

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/metervcr/metervcr/cassettes/metering"
)

// visitFunc receives a place of an interaction, its value and what in it
// must not be stored in clear, and returns the value to keep there.
type visitFunc func(pl place, v string, hs []hit) string

// each calls fn for every string of in that could hold a secret: request
// headers, URL and form, request body (every string of a JSON body, nested
// ones included), then response headers and body. Values that the request
// holds at places rules protect are also looked for in the response, which
// may echo them (in an error message, for instance). A value fn returns
// changed is written back; a JSON body is re-encoded only when one of its
// values changed.
func (p *policy) each(in *Interaction, fn visitFunc) {
	op, _ := metering.OperationFromTarget(in.Request.Headers.Get(metering.HeaderTarget))
	var echoes []echo
	request := func(pl place, v string) string {
		hs := p.hits(pl, v)
		for _, h := range hs {
			if pl.kind != "" && h.end-h.start >= minEcho {
				echoes = append(echoes, echo{value: v[h.start:h.end], kind: h.kind, what: pl.name})
			}
		}
		return fn(pl, v, hs)
	}
	response := func(pl place, v string) string {
		return fn(pl, v, echoHits(v, echoes, p.hits(pl, v)))
	}
	p.eachHeader("request", in.Request.Headers, request)
	p.eachURL(&in.Request, request)
	eachForm(in.Request.Form, request)
	in.Request.Body = p.eachBody(op, "request body", in.Request.Body, request)
	p.eachHeader("response", in.Response.Headers, response)
	in.Response.Body = p.eachBody(op, "response body", in.Response.Body, response)
}

func (p *policy) eachHeader(side string, h http.Header, fn func(place, string) string) {
	near := false
	for _, vals := range h {
		for _, v := range vals {
			near = near || metering.HasAccessKeyID(v)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		pl := p.headerPlace(side, http.CanonicalHeaderKey(name), near)
		for i, v := range h[name] {
			if nv := fn(pl, v); nv != v {
				h[name][i] = nv
			}
		}
	}
}

// eachURL visits the user information, path and query of the request URL.
// A URL that does not parse is visited as one string.
func (p *policy) eachURL(r *Request, fn func(place, string) string) {
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
	for _, name := range slices.Sorted(maps.Keys(q)) {
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

func eachForm(form map[string][]string, fn func(place, string) string) {
	near := false
	for _, vals := range form {
		for _, v := range vals {
			near = near || metering.HasAccessKeyID(v)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(form)) {
		pl := paramPlace("request form", name, near)
		for i, v := range form[name] {
			if nv := fn(pl, v); nv != v {
				form[name][i] = nv
			}
		}
	}
}

// eachBody visits a body: every string and number of a JSON document, or
// the whole text of anything else.
func (p *policy) eachBody(op, where, body string, fn func(place, string) string) string {
	if body == "" {
		return body
	}
	near := metering.HasAccessKeyID(body)
	doc, _ := DecodeJSON([]byte(body)) // nil when not JSON
	switch doc.(type) {
	case map[string]any, []any:
	default: // not JSON, or a bare JSON value: text
		return fn(place{where: where, name: "body", near: near}, body)
	}
	if !p.eachDoc(op, doc, where, near, fn) {
		return body
	}
	b, err := EncodeJSON(doc)
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
		if labels && label != "" {
			pl.where = where + " " + label
		}
		if nv := fn(pl, s); nv != s {
			set(nv)
			changed = true
		}
	}
	walk(doc, nil, "", func(nv any) {})
	return changed
}
