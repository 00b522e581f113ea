package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
)

// Log formats of --log-format.
const (
	logText = "text" // key=value lines with a short time, for people
	logJSON = "json" // one JSON object per line, for log collectors
)

// logLevel returns the level of a --log-level value, in any case, and
// reports whether there is one. Request lines are info, misses and failed
// requests warn, so --log-level warn shows only what went wrong.
func logLevel(name string) (slog.Level, bool) {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

func logFormatFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "log-format", Value: logText, EnvVars: []string{"METERVCR_LOG_FORMAT"},
		Usage: "request log on stderr: text (for people) or json (one object per line, for log collectors)",
		Action: func(_ *cli.Context, v string) error {
			if v != logText && v != logJSON {
				return usageError("--log-format %q: want text or json", v)
			}
			return nil
		},
	}
}

func logLevelFlag() cli.Flag {
	return &cli.StringFlag{
		Name: "log-level", Value: "info", EnvVars: []string{"METERVCR_LOG_LEVEL"},
		Usage: "least severe log lines shown: debug, info (a line per request), warn (misses and failures only) or error",
		Action: func(_ *cli.Context, v string) error {
			if _, ok := logLevel(v); !ok {
				return usageError("--log-level %q: want debug, info, warn or error", v)
			}
			return nil
		},
	}
}

// commandLogger returns the logger that the --log-format and --log-level
// flags of c ask for, writing to w. The flags' own actions have already
// refused bad values; a command without the flags gets text at info.
func commandLogger(c *cli.Context, w io.Writer) *slog.Logger {
	format := c.String("log-format")
	level, _ := logLevel(c.String("log-level")) // info when unknown
	return newLogger(w, format, level)
}

// newLogger returns a logger writing format (logText or logJSON) to w,
// showing level and above.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(&lineHandler{Handler: textHandler(w, level), w: w})
}

// textHandler is the text format: slog's, with the time of day only.
func textHandler(w io.Writer, level slog.Level) *slog.TextHandler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		// People read the log while they run their tests: the time of day
		// is enough, the date and zone are noise.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.String(slog.TimeKey, a.Value.Time().Format(logTime))
			}
			return a
		},
	})
}

// logTime is the layout of the time of day that starts a text log line.
const logTime = "15:04:05.000"

// lineHandler writes the text log lines that the request log is made of
// (plain strings, integers and durations) itself, the same bytes as
// the text handler it wraps writes (TestLineHandlerWritesWhatTextHandlerWrites),
// at a fraction of the cost; any other line goes to that handler.
type lineHandler struct {
	slog.Handler // text, with the options of newLogger
	w            io.Writer
	buffers      sync.Pool // of *[]byte, the lines being written
}

func (h *lineHandler) Handle(ctx context.Context, r slog.Record) error {
	bp, _ := h.buffers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer h.buffers.Put(bp)
	b := (*bp)[:0]
	ok := plain(r.Message)
	if !r.Time.IsZero() {
		b = append(b, "time="...)
		b = appendLogTime(b, r.Time)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = append(b, r.Level.String()...)
	b = append(b, " msg="...)
	b = append(b, r.Message...)
	r.Attrs(func(a slog.Attr) bool {
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		switch v := a.Value; {
		case !plain(a.Key):
			ok = false
		case v.Kind() == slog.KindString && plain(v.String()):
			b = append(b, v.String()...)
		case v.Kind() == slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case v.Kind() == slog.KindDuration:
			b = append(b, v.Duration().String()...)
		default:
			ok = false
		}
		return ok
	})
	*bp = b
	if !ok {
		return h.Handler.Handle(ctx, r)
	}
	b = append(b, '\n')
	*bp = b
	_, err := h.w.Write(b)
	return err
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler { return h.Handler.WithAttrs(attrs) }
func (h *lineHandler) WithGroup(name string) slog.Handler       { return h.Handler.WithGroup(name) }

// appendLogTime appends t as t.AppendFormat(b, logTime) does, without
// reading the layout.
func appendLogTime(b []byte, t time.Time) []byte {
	h, m, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// plain reports whether the text handler writes s as it is, unquoted: it
// holds only letters, digits, "-._:/+" and µ (of durations). Anything
// else is left to the text handler.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == ':' || c == '/' || c == '+':
		case c == 0xC2 && i+1 < len(s) && s[i+1] == 0xB5: // µ
			i++
		default:
			return false
		}
	}
	return true
}

// flushEvery is the longest a line waits in a logBuffer.
const flushEvery = 50 * time.Millisecond

// logBuffer writes to w: at once after a quiet spell, otherwise gathered
// and written when the spell of flushEvery that the last write began ends
// (or when maxLogBuffer bytes are waiting). Under load a line per request
// then costs a share of one write per flushEvery instead of a system call
// each; a person at a terminal still sees every line as it happens.
type logBuffer struct {
	w     io.Writer
	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // armed for flushEvery after a write reaches w
}

const maxLogBuffer = 64 << 10

func newLogBuffer(w io.Writer) *logBuffer { return &logBuffer{w: w} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer == nil {
		// Quiet until now: write through, and gather what follows.
		b.timer = time.AfterFunc(flushEvery, b.tick)
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= maxLogBuffer {
		b.flushLocked()
	}
	return len(p), nil
}

// tick ends a spell: it writes what gathered and begins another spell, or,
// when nothing did, lets the next line through at once.
func (b *logBuffer) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 {
		b.timer = nil
		return
	}
	b.flushLocked()
	b.timer = time.AfterFunc(flushEvery, b.tick)
}

// Flush writes what is waiting.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *logBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}
