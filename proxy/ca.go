package proxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/metervcr/metervcr/cassettes"
)

// Files of the CA directory (--ca-dir).
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca-key.pem"
)

const (
	caValidity   = 5 * 365 * 24 * time.Hour
	leafValidity = 7 * 24 * time.Hour
)

// CA is metervcr's own certificate authority for intercepting HTTPS to
// Metering hosts in forward-proxy mode. It is made once per directory, as
// mkcert makes its local CA, and its key never leaves the directory.
// Leaf certificates are minted per host on first use and cached.
type CA struct {
	// CertFile is the path of the CA certificate clients must trust.
	CertFile string

	cert    *x509.Certificate
	key     crypto.Signer
	leafKey *ecdsa.PrivateKey // one key for every leaf: minting stays cheap

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// LoadCA reads the CA in dir. When dir holds no CA and create is set, a new
// one is made (ECDSA P-256, key file mode 0600). A key that others can
// read, a damaged key, or a key that does not match the certificate is
// refused with an error that says how to fix it.
func LoadCA(dir string, create bool) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("no CA in %s; create one with: metervcr ca init --ca-dir %s", dir, dir)
		}
		if err := createCA(dir, certPath, keyPath); err != nil {
			return nil, fmt.Errorf("creating CA in %s: %w", dir, err)
		}
		return LoadCA(dir, false)
	}
	if certErr != nil {
		return nil, fmt.Errorf("reading CA certificate: %w; move %s aside and run: metervcr ca init --ca-dir %s", certErr, dir, dir)
	}
	if keyErr != nil {
		return nil, fmt.Errorf("reading CA key: %w; move %s aside and run: metervcr ca init --ca-dir %s", keyErr, dir, dir)
	}
	st, err := os.Stat(keyPath)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): anyone who reads it can intercept your TLS traffic; run: chmod 600 %s", keyPath, st.Mode().Perm(), keyPath)
	}
	ca, err := parseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA in %s is damaged: %w; move %s aside and run: metervcr ca init --ca-dir %s (clients must then trust the new %s)", dir, err, dir, dir, CACertFile)
	}
	ca.CertFile = certPath
	return ca, nil
}

func parseCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New(CACertFile + " holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CACertFile, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New(CAKeyFile + " holds no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CAKeyFile, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New(CAKeyFile + " is not a signing key")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New(CAKeyFile + " does not belong to " + CACertFile)
	}
	if !cert.IsCA {
		return nil, errors.New(CACertFile + " is not a CA certificate")
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, leafKey: leafKey, leaves: map[string]*tls.Certificate{}}, nil
}

func createCA(dir, certPath, keyPath string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"metervcr local CA"}, CommonName: "metervcr local CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	// The key first: a certificate without its key is useless, a key
	// without its certificate is detected on the next load.
	if err := cassettes.WriteFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return cassettes.WriteFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// Certificate returns a certificate for host signed by the CA, minting it
// on first use.
func (ca *CA) Certificate(host string) (*tls.Certificate, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.leaves[host]; ok && time.Until(c.Leaf.NotAfter) > time.Hour {
		return c, nil
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Organization: []string{"metervcr"}, CommonName: host},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.leafKey.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("minting certificate for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: ca.leafKey, Leaf: leaf}
	ca.leaves[host] = c
	return c, nil
}

// Pool returns a certificate pool holding only the CA, for clients in tests.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}
