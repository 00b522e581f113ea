// Package convert converts cassettes between go-vcr v2's format and go-vcr
// v3/v4's.
package convert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/metervcr/metervcr/cassettes"
)

// FormatVersionV3 is the cassette format version of go-vcr v3 and v4
// (version: 2). metervcr serves cassettes.FormatVersion cassettes; To turns
// one into the other.
const FormatVersionV3 = 2

// v3File is a cassette in go-vcr v3/v4's format: the fields go-vcr v4's
// cassette package writes, in its order and with its YAML names.
type v3File struct {
	Version      int              `yaml:"version"`
	Interactions []*v3Interaction `yaml:"interactions"`
}

type v3Interaction struct {
	ID       int        `yaml:"id"`
	Request  v3Request  `yaml:"request"`
	Response v3Response `yaml:"response"`
}

type v3Request struct {
	Proto            string      `yaml:"proto"`
	ProtoMajor       int         `yaml:"proto_major"`
	ProtoMinor       int         `yaml:"proto_minor"`
	ContentLength    int64       `yaml:"content_length"`
	TransferEncoding []string    `yaml:"transfer_encoding,omitempty"`
	Trailer          http.Header `yaml:"trailer,omitempty"`
	Host             string      `yaml:"host"`
	RemoteAddr       string      `yaml:"remote_addr,omitempty"`
	RequestURI       string      `yaml:"request_uri,omitempty"`
	Body             string      `yaml:"body,omitempty"`
	Form             url.Values  `yaml:"form,omitempty"`
	Headers          http.Header `yaml:"headers,omitempty"`
	URL              string      `yaml:"url"`
	Method           string      `yaml:"method"`
}

type v3Response struct {
	Proto            string        `yaml:"proto"`
	ProtoMajor       int           `yaml:"proto_major"`
	ProtoMinor       int           `yaml:"proto_minor"`
	TransferEncoding []string      `yaml:"transfer_encoding,omitempty"`
	Trailer          http.Header   `yaml:"trailer,omitempty"`
	ContentLength    int64         `yaml:"content_length"`
	Uncompressed     bool          `yaml:"uncompressed,omitempty"`
	Body             string        `yaml:"body"`
	Headers          http.Header   `yaml:"headers"`
	Status           string        `yaml:"status"`
	Code             int           `yaml:"code"`
	Duration         time.Duration `yaml:"duration"`
}

// Version returns the format version a cassette document declares: 1 for
// go-vcr v2 (what metervcr writes), 2 for go-vcr v3 and v4.
func Version(data []byte) (int, error) {
	var head struct {
		Version int `yaml:"version"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, errors.New("empty file: not a cassette")
		}
		return 0, fmt.Errorf("not a valid cassette: %w", err)
	}
	return head.Version, nil
}

// To returns the cassette document data in format version to:
// cassettes.FormatVersion (1, go-vcr v2 and metervcr) or FormatVersionV3
// (2, go-vcr v3 and v4). Everything both formats hold is kept: each request's method,
// URL, headers, form and body, each response's status, code, headers, body
// and duration, and the order of interactions. Going to version 2, the
// fields only it has are derived as go-vcr v4 would record them (HTTP/1.1,
// the host from the URL, content lengths from the bodies, ids from the
// order); going to version 1 they are dropped. A document already in
// version to is re-encoded unchanged in content.
func To(data []byte, to int) ([]byte, error) {
	from, err := Version(data)
	if err != nil {
		return nil, err
	}
	if to != cassettes.FormatVersion && to != FormatVersionV3 {
		return nil, fmt.Errorf("cannot convert to format version %d: want %d (go-vcr v2, metervcr) or %d (go-vcr v3 and v4)", to, cassettes.FormatVersion, FormatVersionV3)
	}
	var interactions []*cassettes.Interaction
	switch from {
	case cassettes.FormatVersion:
		c, err := cassettes.Parse(data)
		if err != nil {
			return nil, err
		}
		interactions = c.Interactions
	case FormatVersionV3:
		if interactions, err = parseV3(data); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("cassette format version %d is unknown: want %d (go-vcr v2, metervcr) or %d (go-vcr v3 and v4)", from, cassettes.FormatVersion, FormatVersionV3)
	}
	if to == cassettes.FormatVersion {
		return cassettes.Encode(interactions)
	}
	return encodeV3(interactions)
}

// parseV3 reads a version 2 document into go-vcr v2 interactions.
func parseV3(data []byte) ([]*cassettes.Interaction, error) {
	var f v3File
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a valid cassette: %w", err)
	}
	out := make([]*cassettes.Interaction, len(f.Interactions))
	for i, in := range f.Interactions {
		if in == nil {
			return nil, fmt.Errorf("interaction %d is empty", i)
		}
		form := in.Request.Form
		if form == nil {
			form = url.Values{} // go-vcr v2 writes "form: {}" for a request without one
		}
		out[i] = &cassettes.Interaction{
			Request: cassettes.Request{
				Body:    in.Request.Body,
				Form:    form,
				Headers: in.Request.Headers,
				URL:     in.Request.URL,
				Method:  in.Request.Method,
			},
			Response: cassettes.Response{
				Body:     in.Response.Body,
				Headers:  in.Response.Headers,
				Status:   in.Response.Status,
				Code:     in.Response.Code,
				Duration: in.Response.Duration,
			},
		}
	}
	return out, nil
}

// encodeV3 writes interactions as a version 2 document, as go-vcr v4 does:
// a document marker, then the cassette.
func encodeV3(interactions []*cassettes.Interaction) ([]byte, error) {
	f := v3File{Version: FormatVersionV3, Interactions: make([]*v3Interaction, len(interactions))}
	for i, in := range interactions {
		host := ""
		if u, err := url.Parse(in.Request.URL); err == nil {
			host = u.Host
		}
		f.Interactions[i] = &v3Interaction{
			ID: i,
			Request: v3Request{
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				ContentLength: int64(len(in.Request.Body)),
				Host:          host,
				Body:          in.Request.Body,
				Form:          in.Request.Form,
				Headers:       in.Request.Headers,
				URL:           in.Request.URL,
				Method:        in.Request.Method,
			},
			Response: v3Response{
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				ContentLength: int64(len(in.Response.Body)),
				Body:          in.Response.Body,
				Headers:       in.Response.Headers,
				Status:        in.Response.Status,
				Code:          in.Response.Code,
				Duration:      in.Response.Duration,
			},
		}
	}
	b, err := yaml.Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("encoding cassette: %w", err)
	}
	return append([]byte("---\n"), b...), nil
}
