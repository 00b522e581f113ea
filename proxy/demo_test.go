package proxy_test

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

var update = flag.Bool("update", false, "re-record the embedded demo cassette (make demo)")

const demoFile = "../cassettes/demo.yaml"

// TestDemoCassette proves that the embedded demo cassette answers the
// demo session (the calls the README shows) with no miss and no unused
// recording, with no redaction key: its tokens match by their keyless
// placeholders. With -update it first re-records it through the proxy
// against the fake, keyed with the public demo key.
func TestDemoCassette(t *testing.T) {
	ctx := context.Background()
	if *update {
		tmp := cassettePath(t)
		_, upstream := startFake(t)
		_, rec := startRecorder(t, tmp, upstream, redact.DemoKey())
		script(ctx, client(rec.URL, clientCreds), time.Now())
		data, err := os.ReadFile(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if err := cassettes.WriteFileAtomic(demoFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, rep := startReplayer(t, demoFile, nil)
	got := script(ctx, client(rep.URL, replayCreds), time.Now().Add(-2*time.Hour))
	for _, r := range got {
		if r.Code == "NoRecordedInteraction" || (r.Code == "" && r.Output == "") {
			t.Errorf("demo cassette does not answer %s: %+v; regenerate it with make demo", r.Call, r)
		}
	}
	if sum := p.Summary(); len(sum.Misses) != 0 || len(sum.Unused) != 0 {
		t.Errorf("demo replay summary: %v", sum)
	}
}
