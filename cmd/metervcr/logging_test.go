package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes"
)

func TestLogFlagsRefuseBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"format", []string{"replay", "--log-format", "xml"}, "", `--log-format "xml": want text or json`},
		{"level", []string{"record", "--cassette", "x", "--log-level", "loud"}, "", `--log-level "loud": want debug, info, warn or error`},
		{"level from the environment", []string{"replay"}, "METERVCR_LOG_LEVEL=verbose", `--log-level "verbose"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, v, ok := strings.Cut(tt.env, "="); ok {
				t.Setenv(k, v)
			}
			code, _, stderr := runApp(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("metervcr %v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
			}
		})
	}
}

// TestJSONLogAtWarnShowsOnlyMisses replays the demo cassette with
// --log-format json --log-level warn (from the environment): a match logs
// nothing, a miss logs one JSON object.
func TestJSONLogAtWarnShowsOnlyMisses(t *testing.T) {
	t.Parallel()
	p := start(t, []string{"METERVCR_CA_DIR=" + t.TempDir(), "METERVCR_LOG_LEVEL=warn"}, "replay", "--log-format", "json")
	c := sdk(p.URL)
	if err := meter(c, cassettes.DemoDimension, cassettes.DemoQuantity); err != nil {
		t.Fatalf("demo MeterUsage: %v", err)
	}
	if err := meter(c, cassettes.DemoDimension, cassettes.DemoQuantity+1); err == nil {
		t.Fatal("unrecorded MeterUsage succeeded, want a miss")
	}
	p.stop(t)
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue // the start-up lines and the summary are for people
		}
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, line)
	}
	if len(lines) != 1 {
		t.Fatalf("got %d JSON log lines, want 1 (the miss); stderr:\n%s", len(lines), p.stderr)
	}
	got := lines[0]
	if got["level"] != "WARN" || got["msg"] != "request" || got["op"] != "MeterUsage" || got["action"] != "miss" || got["status"] != float64(404) {
		t.Errorf("miss logged as %v, want level WARN, msg request, op MeterUsage, action miss, status 404", got)
	}
	if _, err := time.Parse(time.RFC3339Nano, got["time"].(string)); err != nil {
		t.Errorf("time %v is not RFC 3339: %v", got["time"], err)
	}
}

func TestLogBufferWritesAtOnceWhenQuietAndBatchesWhenBusy(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out)
	b.Write([]byte("first\n"))
	if got := out.String(); got != "first\n" {
		t.Fatalf("a line after a quiet spell waited: %q", got)
	}
	for i := range 100 {
		fmt.Fprintf(b, "line %d\n", i)
	}
	if n := out.writes(); n != 1 {
		t.Fatalf("100 lines in a burst took %d writes, want them gathered", n-1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, n := out.String(), out.writes()
		if strings.HasSuffix(got, "line 99\n") {
			if n != 2 {
				t.Fatalf("the burst was written in %d writes, want 1", n-1)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gathered lines were never written: %q", got)
		}
		time.Sleep(flushEvery / 5)
	}
	fmt.Fprintln(b, "last")
	b.Flush()
	if got := out.String(); !strings.HasSuffix(got, "line 99\nlast\n") {
		t.Fatalf("Flush left lines behind: %q", got)
	}
}

func TestLineHandlerWritesWhatTextHandlerWrites(t *testing.T) {
	at := time.Date(2026, 11, 28, 4, 55, 1, 123456789, time.Local)
	values := []slog.Value{
		slog.StringValue("MeterUsage"), slog.StringValue("-"), slog.StringValue(""), slog.StringValue("a b"),
		slog.StringValue("x=y"), slog.StringValue("ü"), slog.StringValue("12µs"), slog.StringValue(`"q"`),
		slog.StringValue("back\\slash"), slog.StringValue("tab\t"), slog.StringValue("µ"), slog.StringValue("\xc2"),
		slog.Int64Value(-7), slog.Int64Value(200), slog.DurationValue(0), slog.DurationValue(1234567),
		slog.DurationValue(-5 * time.Microsecond), slog.BoolValue(true), slog.AnyValue(errors.New("boom")),
		slog.Float64Value(1.5), slog.TimeValue(at),
	}
	keys := []string{"op", "interaction", "a b", "", "k=v", "x-amz"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		tm := at.Add(time.Duration(i)*time.Millisecond + time.Duration(i%24)*time.Hour + time.Duration(i%60)*time.Minute + time.Duration(i%61)*time.Second)
		if i%50 == 0 {
			tm = time.Time{}
		}
		level := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2}[i%5]
		msg := []string{"request", "shutting down: finishing in-flight requests", "cassette"}[i%3]
		r := slog.NewRecord(tm, level, msg, 0)
		for range rng.IntN(7) {
			r.AddAttrs(slog.Attr{Key: keys[rng.IntN(len(keys))], Value: values[rng.IntN(len(values))]})
		}
		var fast, slow bytes.Buffer
		if err := (&lineHandler{Handler: textHandler(&fast, slog.LevelDebug), w: &fast}).Handle(context.Background(), r.Clone()); err != nil {
			t.Fatal(err)
		}
		if err := textHandler(&slow, slog.LevelDebug).Handle(context.Background(), r.Clone()); err != nil {
			t.Fatal(err)
		}
		if fast.String() != slow.String() {
			t.Fatalf("line handler wrote\n%q\ntext handler\n%q", fast.String(), slow.String())
		}
	}
}

func BenchmarkRequestLine(b *testing.B) {
	for _, tt := range []struct {
		name string
		h    slog.Handler
	}{
		{"text", textHandler(io.Discard, slog.LevelInfo)},
		{"line", &lineHandler{Handler: textHandler(io.Discard, slog.LevelInfo), w: io.Discard}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			log := slog.New(tt.h)
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("op", "MeterUsage"), slog.String("action", "match"),
					slog.Int("status", 200), slog.Duration("latency", 12*time.Microsecond), slog.Int("interaction", 3))
			}
		})
	}
}

// TestLogLevel: the four --log-level values, in any case, and nothing else.
func TestLogLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		want   slog.Level
		wantOK bool
	}{
		{"debug", slog.LevelDebug, true},
		{"INFO", slog.LevelInfo, true},
		{"Warn", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"warning", slog.LevelInfo, false},
		{"", slog.LevelInfo, false},
	}
	for _, tt := range tests {
		if got, ok := logLevel(tt.name); got != tt.want || ok != tt.wantOK {
			t.Errorf("logLevel(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}
