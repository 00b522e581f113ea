package main

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineTick is how often the listener of serve enforces read deadlines.
const deadlineTick = 250 * time.Millisecond

// coarseListener hands out connections whose future read deadlines are
// enforced by one goroutine every tick instead of by a runtime
// timer each. net/http moves a connection's read deadline three times per
// request (idle, headers, whole request); on a busy proxy those timer
// updates cost a few percent of the CPU. Server timeouts are seconds long,
// so a read that times out up to a tick late changes nothing. A deadline
// already past (net/http's way of interrupting a read at once) and
// clearing a deadline take effect at once.
type coarseListener struct {
	net.Listener
	now atomic.Int64 // Unix nanoseconds as of the last tick

	mu     sync.Mutex
	conns  map[*coarseConn]struct{}
	closed bool
	done   chan struct{} // closed by Close
}

// newCoarseListener returns a coarseListener of l that enforces read
// deadlines every tick: a read times out at most tick after its deadline.
func newCoarseListener(l net.Listener, tick time.Duration) *coarseListener {
	cl := &coarseListener{Listener: l, conns: map[*coarseConn]struct{}{}, done: make(chan struct{})}
	cl.now.Store(time.Now().UnixNano())
	go cl.enforce(tick)
	return cl
}

func (l *coarseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &coarseConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[cc] = struct{}{}
	l.mu.Unlock()
	return cc, nil
}

// Close stops accepting; deadlines of the connections still open keep
// being enforced until they close.
func (l *coarseListener) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

// enforce expires the deadlines that have passed, every tick, until the
// listener is closed and its connections are.
func (l *coarseListener) enforce(tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	done := l.done
	for {
		select {
		case <-t.C:
		case <-done:
			done = nil // from now on, wait for the ticks
		}
		now := time.Now().UnixNano()
		l.now.Store(now)
		l.mu.Lock()
		for c := range l.conns {
			c.expire(now)
		}
		over := l.closed && len(l.conns) == 0
		l.mu.Unlock()
		if over {
			return
		}
	}
}

// coarseConn is a connection of a coarseListener.
type coarseConn struct {
	net.Conn
	l *coarseListener

	mu       sync.Mutex
	deadline int64 // Unix nanoseconds of the read deadline, 0 for none
	set      bool  // the connection's own read deadline is set
}

// SetReadDeadline keeps a future deadline for the listener to enforce;
// a past or zero one goes to the connection at once.
func (c *coarseConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.IsZero() {
		c.deadline = 0
		return c.clear()
	}
	if d := t.UnixNano(); d > c.l.now.Load() {
		c.deadline = d
		return c.clear()
	}
	c.deadline = 0
	c.set = true
	return c.Conn.SetReadDeadline(t)
}

// clear takes back a deadline set on the connection, if any.
func (c *coarseConn) clear() error {
	if !c.set {
		return nil
	}
	c.set = false
	return c.Conn.SetReadDeadline(time.Time{})
}

// expire sets the kept deadline on the connection once it has passed, so
// that a read waiting on it returns a timeout.
func (c *coarseConn) expire(now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deadline != 0 && c.deadline <= now {
		c.set = true
		c.Conn.SetReadDeadline(time.Unix(0, c.deadline)) // a failure means the connection is gone
		c.deadline = 0
	}
}

func (c *coarseConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.Conn.SetWriteDeadline(t))
}

func (c *coarseConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// errNotTCP answers a TCP-only call on a connection of another kind.
var errNotTCP = errors.New("not a TCP connection")

// CloseWrite, CloseRead and SetLinger are the TCP connection's, for code
// that half-closes a hijacked connection or resets it.
func (c *coarseConn) CloseWrite() error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return errNotTCP
}

func (c *coarseConn) CloseRead() error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.CloseRead()
	}
	return errNotTCP
}

func (c *coarseConn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.SetLinger(sec)
	}
	return errNotTCP
}
