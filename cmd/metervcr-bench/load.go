package main

import (
	"bufio"
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// result is what one load run measured.
type result struct {
	requests int
	failures int // non-200 answers and broken connections
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// requestPool returns count raw HTTP/1.1 MeterUsage requests naming host,
// shaped like the Go SDK's: signed-looking headers that change on every
// call (signature, date, invocation id, client token) and a body naming
// one of size dimensions at random. They are built before the run, so the
// load generator only writes bytes.
func requestPool(host string, size, count int, rng *rand.Rand) [][]byte {
	pool := make([][]byte, count)
	now := time.Now().UTC()
	amzDate := now.Format("20060102T150405Z")
	for k := range pool {
		i := rng.IntN(size)
		body := meterUsageBody(i, rng.Int(), now)
		var sig [32]byte
		crand.Read(sig[:])
		var b bytes.Buffer
		fmt.Fprintf(&b, "POST / HTTP/1.1\r\nHost: %s\r\n", host)
		fmt.Fprintf(&b, "User-Agent: %s\r\n", userAgent)
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
		fmt.Fprintf(&b, "Amz-Sdk-Invocation-Id: %s\r\nAmz-Sdk-Request: attempt=1; max=3\r\n", id("invocation", rng.Int()))
		fmt.Fprintf(&b, "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/%s/us-east-1/%s/aws4_request, "+
			"SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target, Signature=%s\r\n",
			amzDate[:8], metering.SigningName, hex.EncodeToString(sig[:]))
		fmt.Fprintf(&b, "Content-Type: application/x-amz-json-1.1\r\n")
		fmt.Fprintf(&b, "%s: %s\r\n%s: %s\r\n", metering.HeaderDate, amzDate, metering.HeaderTarget, metering.Target(metering.MeterUsage))
		fmt.Fprintf(&b, "Accept-Encoding: identity\r\n\r\n%s", body)
		pool[k] = b.Bytes()
	}
	return pool
}

// drive keeps conns keep-alive connections to e busy for d, one request
// in flight on each, and measures every request's latency. It writes raw
// requests and reads only the status line, headers and body length, so
// that one core of load generator can saturate one core of server. Over
// TLS the same bytes go through a tls.Conn.
func drive(e endpoint, size, conns int, d time.Duration) (result, error) {
	lat := make([][]time.Duration, conns)
	fails := make([]int, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range conns {
		pool := requestPool(e.host, size, 256, rand.New(rand.NewPCG(uint64(c), uint64(size))))
		wg.Go(func() {
			lat[c], fails[c], errs[c] = connection(e, pool, deadline)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	res := result{elapsed: elapsed}
	for c := range conns {
		if errs[c] != nil {
			return res, errs[c]
		}
		all = append(all, lat[c]...)
		res.failures += fails[c]
	}
	res.requests = len(all)
	if len(all) == 0 {
		return res, errors.New("no request completed")
	}
	slices.Sort(all)
	res.p50 = all[len(all)/2]
	res.p99 = all[len(all)*99/100]
	return res, nil
}

// connection sends the requests of pool in turn on one connection until
// deadline. A connection the server closes is opened again. Opening a
// connection (TCP, then the CONNECT exchange and the TLS handshake when e
// asks for them) counts in the latency of its first request and in the
// run's time, the same for every server.
func connection(e endpoint, pool [][]byte, deadline time.Time) ([]time.Duration, int, error) {
	lat := make([]time.Duration, 0, 1<<16)
	fails := 0
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for k := 0; ; k++ {
		t := time.Now()
		if !t.Before(deadline) {
			return lat, fails, nil
		}
		if conn == nil {
			c, err := e.dial()
			if err != nil {
				return nil, 0, err
			}
			conn, br = c, bufio.NewReaderSize(c, 16<<10)
		}
		conn.SetDeadline(t.Add(10 * time.Second))
		ok, keep, err := roundTrip(conn, br, pool[k%len(pool)])
		if err != nil {
			fails++
			conn.Close()
			conn = nil
			continue
		}
		lat = append(lat, time.Since(t))
		if !ok {
			fails++
		}
		if !keep {
			conn.Close()
			conn = nil
		}
	}
}

// roundTrip writes one request and reads its answer, reporting whether it
// was a 200 and whether the connection stays open.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (ok, keep bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return false, false, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return false, false, err
	}
	ok = bytes.HasPrefix(line, []byte("HTTP/1.1 200 "))
	keep = true
	length := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return false, false, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.Atoi(string(value))
			if err != nil {
				return false, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		}
	}
	if length < 0 {
		return false, false, errors.New("answer without Content-Length")
	}
	if _, err := br.Discard(length); err != nil {
		return false, false, err
	}
	return ok, keep, nil
}
