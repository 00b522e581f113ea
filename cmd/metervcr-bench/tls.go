package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// endpoint says how the load generator reaches a server: a TCP address,
// then optionally a CONNECT tunnel through it, then optionally TLS.
type endpoint struct {
	addr    string      // TCP address dialled
	connect string      // when not "", the authority (host:port) asked for by CONNECT
	tls     *tls.Config // nil for plain HTTP
	host    string      // Host header of every request
}

// plain reaches a server by plain HTTP on addr.
func plain(addr string) endpoint { return endpoint{addr: addr, host: addr} }

// dial opens one connection to the server: TCP, the CONNECT exchange when
// there is one, and the TLS handshake when there is one. Nothing has been
// sent on the returned connection but the tunnel's and TLS's own bytes.
func (e endpoint) dial() (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if e.connect != "" {
		if err := connect(conn, e.connect); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if e.tls == nil {
		return conn, nil
	}
	tc := tls.Client(conn, e.tls)
	if err := tc.Handshake(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", e.tls.ServerName, err)
	}
	return tc, nil
}

// connect asks the proxy at the other end of conn for a tunnel to
// authority and reads its answer, as an HTTPS_PROXY client does
// (RFC 9110, section 9.3.6). Any answer but 2xx is an error quoting it.
func connect(conn net.Conn, authority string) error {
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority); err != nil {
		return fmt.Errorf("CONNECT %s: %w", authority, err)
	}
	// The proxy sends nothing after its answer until the client speaks,
	// so this reader holds no bytes of the tunnel once the answer is read.
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("CONNECT %s: reading the answer: %w", authority, err)
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // best effort: the status alone is the error
		return fmt.Errorf("CONNECT %s: %s: %s", authority, resp.Status, strings.TrimSpace(string(msg)))
	}
	if br.Buffered() > 0 {
		return fmt.Errorf("CONNECT %s: %d bytes after the %s answer", authority, br.Buffered(), resp.Status)
	}
	return nil
}

// clientTLS returns the configuration of the load generator's TLS
// connections: HTTP/1.1 only, as the raw requests are, trusting only the
// certificates of the PEM file rootFile.
func clientTLS(rootFile, serverName string) (*tls.Config, error) {
	pemBytes, err := os.ReadFile(rootFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("no certificate in %s", rootFile)
	}
	return &tls.Config{
		RootCAs:    roots,
		ServerName: serverName,
		NextProtos: []string{"http/1.1"},
		MinVersion: tls.VersionTLS12,
	}, nil
}

// selfSigned writes a self-signed ECDSA P-256 server certificate for hosts
// (names or IP addresses) to certFile and its key to keyFile. A client
// that holds the certificate as its only root trusts it.
func selfSigned(certFile, keyFile string, hosts ...string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"metervcr-bench"}, CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600),
	)
}
