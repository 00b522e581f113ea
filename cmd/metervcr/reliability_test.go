package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// killRounds is how many times TestKillAtRandomPoints kills a recorder.
const killRounds = 12

// TestKillAtRandomPoints kills a recorder with SIGKILL at random moments
// while four clients record: every time, the cassette loads and holds every
// interaction whose response reached a client.
func TestKillAtRandomPoints(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range killRounds {
		path := filepath.Join(t.TempDir(), "killed.yaml")
		p := start(t, recordEnv(t), "record", "--cassette", path, "--upstream", fake.URL)
		var mu sync.Mutex
		var answered []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := sdk(p.URL)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					dim := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					if meter(c, dim, 1) != nil {
						return // the process is gone
					}
					mu.Lock()
					answered = append(answered, dim)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		close(stop)
		wg.Wait()
		c, err := cassettes.Load(path)
		if errors.Is(err, cassettes.ErrNotFound) && len(answered) == 0 {
			// Killed before the first call was answered (a loaded
			// machine): nothing was promised, and nothing is written
			// before the first append.
			continue
		}
		if err != nil {
			t.Fatalf("round %d: cassette does not load after kill -9: %v", round, err)
		}
		recorded := map[string]bool{}
		for _, in := range c.Interactions {
			for _, dim := range answered {
				if strings.Contains(in.Request.Body, `"`+dim+`"`) {
					recorded[dim] = true
				}
			}
		}
		for _, dim := range answered {
			if !recorded[dim] {
				t.Fatalf("round %d: answered call %s is not in the cassette (%d interactions, %d answered)", round, dim, len(c.Interactions), len(answered))
			}
		}
		t.Logf("round %d: killed after %d answered calls; cassette holds %d, warnings %q", round, len(answered), len(c.Interactions), c.Warnings)
	}
}

// TestSIGTERMFinishesInFlightRequests: requests in flight when SIGTERM
// arrives complete and are recorded, then the process exits 0.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	model := fakeaws.New(fakeaws.Config{})
	var arrived atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		time.Sleep(400 * time.Millisecond)
		model.ServeHTTP(w, r)
	}))
	defer slow.Close()
	path := filepath.Join(t.TempDir(), "term.yaml")
	p := start(t, recordEnv(t), "record", "--cassette", path, "--upstream", slow.URL)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- meter(sdk(p.URL), fmt.Sprintf("inflight-%d", i), 1) }()
	}
	for arrived.Load() < n {
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("in-flight call failed after SIGTERM: %v", err)
		}
	}
	if err := <-p.done; err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	c, err := cassettes.Load(path)
	if err != nil || len(c.Interactions) != n {
		t.Fatalf("cassette after SIGTERM: %v, %d interactions; want %d", err, len(c.Interactions), n)
	}
}

// TestSecondSignalExitsAtOnce: a second signal does not wait for in-flight
// requests, and leaves a cassette that loads.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	model := fakeaws.New(fakeaws.Config{})
	var arrived atomic.Int32
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) > 1 {
			<-release
		}
		model.ServeHTTP(w, r)
	}))
	defer stuck.Close()
	defer close(release) // before Close, which waits for the stuck handler
	path := filepath.Join(t.TempDir(), "twice.yaml")
	p := start(t, recordEnv(t), "record", "--cassette", path, "--upstream", stuck.URL)
	if err := meter(sdk(p.URL), "first", 1); err != nil {
		t.Fatal(err)
	}
	go meter(sdk(p.URL), "stuck", 1)
	for arrived.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("a second SIGTERM did not end the process")
	}
	if c, err := cassettes.Load(path); err != nil || len(c.Interactions) != 1 {
		t.Fatalf("cassette after a second signal: %v, %+v", err, c)
	}
}

// TestNoSecretInLogs records with debug logging and scans the log with
// the scanner verify uses.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	path := filepath.Join(t.TempDir(), "logs.yaml")
	p := start(t, recordEnv(t), "record", "--cassette", path, "--upstream", fake.URL, "--log-level", "debug")
	creds := fakeaws.DefaultCredentials()[1]
	c := mm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)},
		func(o *mm.Options) { o.BaseEndpoint = aws.String(p.URL); o.RetryMaxAttempts = 1 })
	c.ResolveCustomer(context.Background(), &mm.ResolveCustomerInput{RegistrationToken: aws.String(fakeaws.DefaultCustomers()[0].Token)})
	meter(c, "logged", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	log := p.stderr.String()
	if !strings.Contains(log, "ResolveCustomer") {
		t.Fatalf("log lacks the request lines:\n%s", log)
	}
	if findings := redact.NewScanner().Text(log); len(findings) > 0 {
		t.Fatalf("the log holds secrets: %v\n%s", findings, log)
	}
	for _, s := range []string{creds.AccessKeyID, creds.SessionToken, fakeaws.DefaultCustomers()[0].Token, fakeaws.DefaultCredentials()[0].AccessKeyID} {
		if strings.Contains(log, s) {
			t.Fatalf("the log holds %q:\n%s", s, log)
		}
	}
}

// TestHostileClients: oversized headers get 431 and a client that sends
// its headers too slowly is cut off; the server keeps serving.
func TestHostileClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr syncBuffer
	go func() {
		done <- runWith(ctx, []string{"metervcr", "replay", "--listen", addr, "--ca-dir", t.TempDir()}, io.Discard, &stderr,
			serveConfig{readHeaderTimeout: 300 * time.Millisecond})
	}()
	defer func() { cancel(); <-done }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatal("replay did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr, strings.NewReader("{}"))
	req.Header.Set("X-Padding", strings.Repeat("x", 100<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KiB of headers: status %d, want 431", resp.StatusCode)
	}

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "POST / HTTP/1.1\r\nHost: x\r\n") // and then nothing
	slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	reply, _ := bufio.NewReader(slow).ReadString('\n')
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("a client stalling in its headers held the connection %v (reply %q)", took, reply)
	}

	if err := meter(sdk("http://"+addr), cassettes.DemoDimension, cassettes.DemoQuantity); err != nil {
		t.Fatalf("after hostile clients: %v", err)
	}
	if !strings.Contains(stderr.String(), "action=match") {
		t.Fatalf("log: %s", stderr.String())
	}
}

// TestListenBeyondLoopbackWarns: binding to all interfaces is allowed but
// said out loud, and clients on this host are given the loopback address.
func TestListenBeyondLoopbackWarns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"metervcr", "replay", "--listen", "0.0.0.0:0", "--ca-dir", t.TempDir()}, io.Discard, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "replaying") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	for _, want := range []string{"listening beyond loopback", "replaying the built-in demo cassette on http://127.0.0.1:",
		"--endpoint-url http://127.0.0.1:", "HTTPS_PROXY=http://127.0.0.1:", "other hosts use this host's own address"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("--listen 0.0.0.0:0: stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "http://[::]") || strings.Contains(stderr.String(), "http://0.0.0.0") {
		t.Errorf("--listen 0.0.0.0:0 prints a wildcard address for clients to use:\n%s", stderr.String())
	}
}

func TestHugeOrCorruptCassettesExit2(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(cassettes.MaxFileBytes + 1) // sparse: no disk is used
	f.Close()
	truncated := filepath.Join(dir, "truncated.yaml")
	// Cut inside a flow mapping: no complete interaction to keep.
	os.WriteFile(truncated, []byte("version: 1\ninteractions:\n  - {request: {method: POST, url: \"https://x/\"}, response: {code: 2"), 0o644)
	for _, tt := range []struct{ path, want string }{
		{huge, "over the"},
		{truncated, "line"},
	} {
		code, _, stderr := runApp(t, "replay", "--cassette", tt.path, "--ca-dir", dir, "--listen", "127.0.0.1:0")
		if code != exitUsage || !strings.Contains(stderr, tt.path) || !strings.Contains(stderr, tt.want) {
			t.Errorf("replay --cassette %s: exit %d, stderr %q; want 2 naming the file and %q", filepath.Base(tt.path), code, stderr, tt.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int // calls to Write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return b.buf.Write(p)
}

func (b *syncBuffer) writes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
