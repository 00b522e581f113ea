package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy"
)

// Default server timeouts: a client that sends its headers or body slowly
// (a slow-loris attack, or a stuck client) is cut off instead of holding a
// connection forever.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 60 * time.Second
)

// serveConfig is what the serving commands (record, replay, mock) share
// beyond their flags. The zero value serves with the default timeouts and
// changes nothing in the process.
type serveConfig struct {
	// readHeaderTimeout bounds the time to read a request's headers; zero
	// means defaultReadHeaderTimeout.
	readHeaderTimeout time.Duration
	// readTimeout bounds the time to read a whole request, body included;
	// zero means defaultReadTimeout.
	readTimeout time.Duration
	// beforeServe, when set, is called once the listener is open and
	// before the first request is served, when what the command serves (a
	// loaded cassette, say) is on the heap. nil calls nothing.
	beforeServe func()
}

// shutdownGrace bounds how long in-flight requests may take to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 30 * time.Second

// serve runs handler on addr until ctx ends or SIGINT/SIGTERM arrives, then
// lets in-flight requests finish. ready is called once the listener is up,
// with the URL clients on this host use; when addr is every interface, a
// line on w then says how other hosts reach it. A second signal ends the
// process at once; cassette writes are atomic, so that cannot corrupt a
// cassette.
func (sc serveConfig) serve(ctx context.Context, addr string, handler http.Handler, log *slog.Logger, w io.Writer, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageError("cannot listen on %s: %v; pick a free address with --listen", addr, err)
	}
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
			log.Warn("listening beyond loopback: anyone who can reach this address can use the proxy", "addr", ln.Addr().String())
		}
	}
	srv := sc.httpServer(handler, log)
	if sc.beforeServe != nil {
		sc.beforeServe()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url, everywhere := clientURL(addr, ln.Addr())
	ready(url)
	if everywhere {
		_, port, _ := net.SplitHostPort(ln.Addr().String()) // clientURL has split it
		fmt.Fprintf(w, "metervcr: listening on every interface (--listen %s): clients on this host use %s; other hosts use this host's own address, port %s\n", addr, url, port)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal now takes the default action: exit at once
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// httpServer returns the server of handler, with the timeouts of sc, that
// logs its own errors (a failed TLS handshake, say) as warnings to log.
func (sc serveConfig) httpServer(handler http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: sc.readHeaderTimeout,
		ReadTimeout:       sc.readTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if srv.ReadHeaderTimeout == 0 {
		srv.ReadHeaderTimeout = defaultReadHeaderTimeout
	}
	if srv.ReadTimeout == 0 {
		srv.ReadTimeout = defaultReadTimeout
	}
	return srv
}

// clientURL returns the URL that clients on this host use to reach a
// listener at addr, opened for the --listen value listen, and reports
// whether it listens on every interface. A wildcard address (0.0.0.0, ::,
// or none) is no address to connect to: clients use the loopback address
// of the family asked for instead, 127.0.0.1 unless listen names ::. Go
// opens 0.0.0.0 as a dual-stack socket that reports itself as [::], so
// the family comes from listen rather than from addr.
func clientURL(listen string, addr net.Addr) (url string, everywhere bool) {
	host, port, err := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsUnspecified() {
		return "http://" + addr.String(), false
	}
	loopback := "127.0.0.1"
	if h, _, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
			loopback = "::1"
		}
	}
	return "http://" + net.JoinHostPort(loopback, port), true
}

// redactionKey returns the placeholder key: METERVCR_REDACTION_KEY (hex)
// when set, else the key file in dir, created when create is set. Without
// either it returns nil: replay then matches tokens by their keyless
// placeholders, and buyer account ids only as the pseudonyms the cassette
// holds.
func redactionKey(dir string, create bool, log *slog.Logger) ([]byte, error) {
	if s := os.Getenv("METERVCR_REDACTION_KEY"); s != "" {
		k, err := redact.ParseKey(s)
		if err != nil {
			return nil, usageError("METERVCR_REDACTION_KEY: %v; set it to the hex key of %s", err, redact.KeyFile)
		}
		return k, nil
	}
	k, err := redact.LoadKey(dir, create)
	if errors.Is(err, fs.ErrNotExist) && !create {
		log.Info("no redaction key (METERVCR_REDACTION_KEY, or "+redact.KeyFile+" in --ca-dir): registration tokens and other "+
			"secrets still match; buyer account ids match only as the pseudonyms the cassette holds", "dir", dir)
		return nil, nil
	}
	if err != nil {
		return nil, usageError("placeholder key: %v", err)
	}
	return k, nil
}

// loadError turns a cassette loading error into words for people.
func loadError(path string, err error) error {
	if dirErr := notDirectory(path); dirErr != nil {
		return dirErr
	}
	if errors.Is(err, cassettes.ErrNotFound) {
		return usageError("cassette %s not found; record it first: metervcr record --cassette %s", cassettes.Path(path), path)
	}
	if errors.Is(err, cassettes.ErrOnlyTorn) {
		return usageError("cannot replay: %v; record it again: metervcr record --cassette %s (which keeps the cut-off bytes in a .torn file beside the cassette)", err, path)
	}
	return usageError("cannot use cassette: %v; fix the file where the error says, or record it anew (metervcr record --fresh --cassette %s replaces it)", err, path)
}

// notDirectory returns a usage error when the cassette name resolves to a
// directory, and nil otherwise.
func notDirectory(name string) error {
	p := cassettes.Path(name)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return usageError("%s is a directory, not a cassette; name a cassette file, e.g. %s", p, filepath.Join(p, "metering.yaml"))
	}
	return nil
}

// printSummary prints the replay summary of a server that has served.
func printSummary(w io.Writer, s *proxy.Server) {
	if s.Mode() == proxy.Replay {
		fmt.Fprintln(w, "metervcr: replay summary: "+s.Summary().String())
	}
}
