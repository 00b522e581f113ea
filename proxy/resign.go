package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/metervcr/metervcr/metering"
)

// upstream builds requests for the real service, signed with the proxy's
// own credentials.
type upstream struct {
	base        *url.URL // dial override; nil dials the real host
	credentials aws.CredentialsProvider
	signer      v4.HTTPSigner
	now         func() time.Time
}

// dropHeaders are removed from the client's request before re-signing:
// its signature and credentials (made for the proxy's address, and never to
// be sent upstream), hop-by-hop headers, and Accept-Encoding so that the
// transport negotiates and undoes compression itself.
var dropHeaders = []string{
	metering.HeaderAuthorization, metering.HeaderDate, metering.HeaderSecurityToken, metering.HeaderContentSHA256,
	"Host", "Content-Length", "Accept-Encoding",
}

// request returns the upstream request for a client request of region,
// re-signed for the real host. The real host is also the Host header when
// the dial goes to base instead.
func (u *upstream) request(ctx context.Context, client *http.Request, region string, body []byte) (*http.Request, error) {
	host := metering.Host(region)
	target := url.URL{Scheme: "https", Host: host, Path: client.URL.Path}
	if target.Path == "" {
		target.Path = "/"
	}
	out, err := u.newRequest(ctx, http.MethodPost, target, host, cloneWithout(client.Header, resignDrop), body)
	if err != nil {
		return nil, err
	}
	if err := u.sign(ctx, out, region, body); err != nil {
		return nil, err
	}
	return out, nil
}

// passthrough returns the upstream request for an intercepted client
// request: the client signed it for the real host, so every header it sent
// (signed or not) goes out unchanged but for hop-by-hop ones; the dial goes
// to base when set.
func (u *upstream) passthrough(ctx context.Context, client *http.Request, body []byte) (*http.Request, error) {
	target := url.URL{Scheme: "https", Host: client.Host, Path: client.URL.Path, RawQuery: client.URL.RawQuery}
	return u.newRequest(ctx, client.Method, target, client.Host, cloneWithout(client.Header, passDrop), body)
}

// newRequest returns a request of method to target, dialled at base
// instead when set, with the Host header host, header and body.
func (u *upstream) newRequest(ctx context.Context, method string, target url.URL, host string, header http.Header, body []byte) (*http.Request, error) {
	if u.base != nil {
		target.Scheme, target.Host = u.base.Scheme, u.base.Host
		target.Path = singleJoin(u.base.Path, target.Path)
	}
	out, err := http.NewRequestWithContext(ctx, method, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Host = host
	out.Header = header
	return out, nil
}

// hopByHop are connection-level headers a proxy must not pass on, in
// requests or responses (RFC 9110, section 7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// resignDrop and passDrop are the header names request and passthrough
// leave out, in canonical form, as Header.Del would remove them.
var (
	resignDrop = nameSet(dropHeaders, hopByHop)
	passDrop   = nameSet(hopByHop)
)

func nameSet(lists ...[]string) map[string]bool {
	set := make(map[string]bool)
	for _, list := range lists {
		for _, name := range list {
			set[http.CanonicalHeaderKey(name)] = true
		}
	}
	return set
}

// cloneWithout returns a copy of h without the names in drop: h.Clone()
// followed by a Del of each, in one pass and with one slice for all the
// values, as Clone allocates them.
func cloneWithout(h http.Header, drop map[string]bool) http.Header {
	if h == nil {
		return nil
	}
	n := 0
	for k, vv := range h {
		if !drop[k] {
			n += len(vv)
		}
	}
	all := make([]string, n)
	out := make(http.Header, len(h))
	for k, vv := range h {
		if drop[k] {
			continue
		}
		if vv == nil {
			out[k] = nil // as Clone keeps it
			continue
		}
		n = copy(all, vv)
		out[k] = all[:n:n]
		all = all[n:]
	}
	return out
}

// sign signs r with SigV4 for the signing name aws-marketplace.
func (u *upstream) sign(ctx context.Context, r *http.Request, region string, body []byte) error {
	creds, err := u.credentials.Retrieve(ctx)
	if err != nil {
		return &statusError{status: http.StatusInternalServerError, code: "InternalFailure",
			msg: "metervcr has no AWS credentials to sign the upstream request (" + err.Error() +
				"); give the proxy credentials through the standard AWS chain, e.g. AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}
	}
	sum := sha256.Sum256(body)
	if err := u.signer.SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), metering.SigningName, region, u.now().UTC()); err != nil {
		return fmt.Errorf("signing upstream request: %w", err)
	}
	return nil
}

func singleJoin(a, b string) string {
	switch {
	case a == "" || a == "/":
		return b
	case a[len(a)-1] == '/' && b != "" && b[0] == '/':
		return a + b[1:]
	case a[len(a)-1] != '/' && (b == "" || b[0] != '/'):
		return a + "/" + b
	}
	return a + b
}
