// Package proxy is metervcr's server: one http.Handler that records
// Marketplace Metering traffic into a cassette or replays it from one.
//
// A request travels through the same named steps in either mode:
//
//   - read: the body is read up to the service's own 1 MiB limit, the
//     operation is taken from X-Amz-Target, and a body that is not a JSON
//     object is refused with an AWS-shaped 400, as the service would.
//   - record: the client's signature was made for the proxy's address, so
//     it is stripped and the request is re-signed with SigV4 (signing name
//     aws-marketplace) for metering.marketplace.<region>.amazonaws.com with
//     the proxy's own credentials, the region taken from the client's
//     credential scope. The response is redacted, appended durably to the
//     cassette, and only then returned to the client unchanged, so every
//     answered exchange is on disk. An unreachable upstream is answered
//     with 502 in the AWS error shape and nothing is recorded. A request
//     intercepted in forward-proxy mode keeps the client's signature; a
//     server without credentials records only those, and refuses
//     endpoint-mode requests with 403 NoProxyCredentials.
//   - replay: the request is normalised with the matcher (which applies the
//     same redaction recording applied) and its key looked up in an index
//     built at load. Matches are served in recorded order, the last one
//     repeating, with the current Date. A miss is answered with 404
//     NoRecordedInteraction naming the closest recording and the fields
//     that differ. Replay never opens an outbound connection.
//   - explain: a miss or a refusal is logged at warn level with its reason
//     the first time it happens, and counted for Summary.
//
// HealthPath answers probes before any of these steps: a probe is never
// matched, recorded or counted.
//
// Go tests use the same engine in-process: NewTestServer starts a Server on
// a loopback port for the length of a test, as httptest.NewServer does,
// and hands out an aws.Config for it.
package proxy
