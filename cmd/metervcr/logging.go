package main

import (
	"io"
	"log/slog"
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

// logLevels are the values of --log-level. Request lines are info, misses
// and failed requests warn, so --log-level warn shows only what went wrong.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
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
			if _, ok := logLevels[strings.ToLower(v)]; !ok {
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
	level, ok := logLevels[strings.ToLower(c.String("log-level"))]
	if !ok {
		level = slog.LevelInfo
	}
	return newLogger(w, format, level)
}

// newLogger returns a logger writing format (logText or logJSON) to w,
// showing level and above.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		// People read the log while they run their tests: the time of day
		// is enough, the date and zone are noise.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	}))
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
