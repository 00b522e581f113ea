package fakeaws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"

	"github.com/metervcr/metervcr/metering"
)

// readRequest checks the route (the JSON 1.1 protocol has exactly one:
// POST /) and reads the body, which the service limits to 1 MiB.
func readRequest(r *http.Request) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, newError(http.StatusMethodNotAllowed, metering.ErrUnknownOperation,
			"Method %s is not allowed; the service accepts POST only", r.Method)
	}
	if r.URL.Path != "/" {
		return nil, newError(http.StatusNotFound, metering.ErrUnknownOperation,
			"No operation at path %s; the service is served at /", r.URL.Path)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, metering.MaxBodyBytes+1))
	if err != nil {
		return nil, badRequest(metering.ErrSerialization, "reading request body: %v", err)
	}
	if len(body) > metering.MaxBodyBytes {
		return nil, newError(http.StatusRequestEntityTooLarge, metering.ErrRequestEntityTooLarge,
			"Request must be smaller than %d bytes", metering.MaxBodyBytes)
	}
	return body, nil
}

// parseProtocol applies the JSON 1.1 protocol checks that follow
// authentication: the content type, the operation named by X-Amz-Target,
// and a body that is one JSON object.
//
// A wrong or missing Content-Type is answered with UnknownOperationException,
// as the AWS front end does: without the JSON 1.1 media type it finds no
// protocol, hence no operation, for the request.
func parseProtocol(r *http.Request, body []byte) (op string, in members, err error) {
	mediaType, _, mtErr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mtErr != nil || mediaType != metering.ContentType {
		return "", nil, badRequest(metering.ErrUnknownOperation,
			"Content-Type %q is not supported; send %s", r.Header.Get("Content-Type"), metering.ContentType)
	}
	target := r.Header.Get(metering.HeaderTarget)
	op, ok := metering.OperationFromTarget(target)
	if !ok {
		return "", nil, badRequest(metering.ErrUnknownOperation, "Unknown operation %q", target)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", nil, badRequest(metering.ErrSerialization, "Request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", nil, badRequest(metering.ErrSerialization, "Request body has data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", nil, badRequest(metering.ErrSerialization, "Request body must be a JSON object, found %s", jsonKind(v))
	}
	return op, m, nil
}

// members is a decoded JSON object, numbers kept as json.Number. Member
// names are matched case-sensitively, as AWS does (encoding/json's struct
// decoding would not), and null members count as absent.
type members map[string]any

// decoder reads typed members and keeps the first type mismatch, which the
// service reports as a SerializationException.
type decoder struct{ err error }

func (d *decoder) mismatch(name string, v any, want string) {
	if d.err == nil {
		d.err = badRequest(metering.ErrSerialization,
			"Cannot deserialize member %s: expected %s, found %s", name, want, jsonKind(v))
	}
}

func (d *decoder) str(m members, name string) *string {
	switch v := m[name].(type) {
	case nil:
		return nil
	case string:
		return &v
	default:
		d.mismatch(name, v, "a string")
		return nil
	}
}

func (d *decoder) boolean(m members, name string) *bool {
	switch v := m[name].(type) {
	case nil:
		return nil
	case bool:
		return &v
	default:
		d.mismatch(name, v, "a boolean")
		return nil
	}
}

// integer reads an int32 member. Integral numbers in any JSON form are
// accepted; fractions and values outside int32 are serialisation errors,
// while range constraints within int32 are left to validation.
func (d *decoder) integer(m members, name string) *int64 {
	switch v := m[name].(type) {
	case nil:
		return nil
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 32)
		if err != nil {
			f, ferr := v.Float64()
			if ferr != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
				d.mismatch(name, v, "a 32-bit integer")
				return nil
			}
			n = int64(f)
		}
		return &n
	default:
		d.mismatch(name, v, "a 32-bit integer")
		return nil
	}
}

// epoch is a timestamp as the JSON 1.1 protocol sends it: a number of
// seconds since the Unix epoch, in any JSON number form (1767323045,
// 1767323045.123, 1.767323045E9). Raw keeps the number as sent, for echoes.
type epoch struct {
	Raw     json.Number
	Seconds float64
}

// Hour is the hour the timestamp falls in, the service's de-duplication
// grain.
func (e epoch) Hour() int64 { return int64(math.Floor(e.Seconds / 3600)) }

func (d *decoder) timestamp(m members, name string) *epoch {
	switch v := m[name].(type) {
	case nil:
		return nil
	case json.Number:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) {
			d.mismatch(name, v, "a timestamp in epoch seconds")
			return nil
		}
		return &epoch{Raw: v, Seconds: f}
	default:
		// The protocol has no string form for timestamps; the Go SDK, too,
		// refuses one ("unexpected string value for float").
		d.mismatch(name, v, "a timestamp in epoch seconds")
		return nil
	}
}

// list reads a list member and reports whether it was present.
func (d *decoder) list(m members, name string) ([]any, bool) {
	switch v := m[name].(type) {
	case nil:
		return nil, false
	case []any:
		return v, true
	default:
		d.mismatch(name, v, "a list")
		return nil, false
	}
}

// object reads a list element or nested structure.
func (d *decoder) object(v any, name string) members {
	m, ok := v.(map[string]any)
	if !ok {
		d.mismatch(name, v, "a structure")
		return members{}
	}
	return m
}

// jsonKind names the JSON type of a value decoded with UseNumber.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
