package main

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// coarsePair returns the server end of a loopback connection accepted by a
// coarseListener ticking every 20 ms, and the client end.
func coarsePair(t *testing.T) (server, client net.Conn, l *coarseListener) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = newCoarseListener(inner, 20*time.Millisecond)
	t.Cleanup(func() { l.Close() })
	client, err = net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	// A read the listener fails to time out ends when the client leaves,
	// so that the test fails instead of hanging.
	leave := time.AfterFunc(5*time.Second, func() { client.Close() })
	t.Cleanup(func() { leave.Stop() })
	if server, err = l.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client, l
}

// readWithin reads one byte from c and reports the error and how long
// the read took.
func readWithin(c net.Conn) (error, time.Duration) {
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	return err, time.Since(start)
}

func TestCoarseDeadlineTimesOutARead(t *testing.T) {
	t.Parallel()
	server, _, _ := coarsePair(t)
	server.SetReadDeadline(time.Now().Add(60 * time.Millisecond))
	err, took := readWithin(server)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v, want a timeout", err)
	}
	if took < 60*time.Millisecond || took > 2*time.Second {
		t.Fatalf("timed out after %v, want between the deadline and a few ticks later", took)
	}
}

func TestCoarseDeadlinePastInterruptsAndZeroClears(t *testing.T) {
	t.Parallel()
	server, client, _ := coarsePair(t)
	done := make(chan error, 1)
	go func() {
		_, err := server.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // the read is waiting
	start := time.Now()
	server.SetReadDeadline(time.Unix(1, 0)) // as net/http aborts a read
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after a past deadline: %v, want a timeout", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a past deadline took %v to interrupt the read", took)
	}
	server.SetReadDeadline(time.Time{})
	io.WriteString(client, "x")
	if err, _ := readWithin(server); err != nil {
		t.Fatalf("read after clearing the deadline: %v", err)
	}
}

func TestCoarseDeadlineMovedLaterDoesNotFire(t *testing.T) {
	t.Parallel()
	server, client, _ := coarsePair(t)
	// Expired once, then moved later: the expired deadline must not stick.
	server.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if err, _ := readWithin(server); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first read: %v, want a timeout", err)
	}
	server.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	server.SetReadDeadline(time.Now().Add(time.Minute))
	time.Sleep(150 * time.Millisecond) // several ticks past the first
	io.WriteString(client, "x")
	if err, _ := readWithin(server); err != nil {
		t.Fatalf("read with its deadline a minute away: %v", err)
	}
}

func TestCoarseListenerKeepsEnforcingAfterClose(t *testing.T) {
	t.Parallel()
	server, _, l := coarsePair(t)
	l.Close()
	server.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if err, took := readWithin(server); !errors.Is(err, os.ErrDeadlineExceeded) || took > 2*time.Second {
		t.Fatalf("read on a connection of a closed listener: %v after %v, want a timeout", err, took)
	}
	server.Close()
	l.mu.Lock()
	left := len(l.conns)
	l.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d connections still watched after closing", left)
	}
}
