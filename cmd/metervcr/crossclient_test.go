package main

import (
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// crossKey keys the placeholders of the cross-client cassettes, so the
// test can compute what replay hands out for the buyer's account id.
var crossKey = []byte("cross-client test placeholder key")

// TestCrossClientReplay records the same session with each client (Go SDK,
// AWS CLI, JavaScript SDK, boto3) through metervcr against the fake service, then
// replays every cassette to every client, hours later, signed with other
// keys, and as a CI runner that did not record would: an empty home, no
// redaction key, no AWS credentials. The clients send the real
// registration token their fixtures hold. The clients differ on the wire (JSON layout and member
// order, timestamp precision: Go milliseconds, the CLI whole seconds;
// ClientToken: random in Go and JavaScript, absent from the CLI; headers),
// yet each must get the answers the recording client got, and each must
// see a miss as its own kind of NoRecordedInteraction error.
func TestCrossClientReplay(t *testing.T) {
	t.Parallel()
	env := append(recordEnv(t), "METERVCR_REDACTION_KEY="+hex.EncodeToString(crossKey))
	recordedAt := time.Now()
	calls := session(recordedAt)

	paths := map[string]string{}
	var mu sync.Mutex // guards recorded, written by parallel subtests
	recorded := map[string][]answer{}
	for _, c := range clients {
		paths[c.name] = filepath.Join(t.TempDir(), c.name+".yaml")
	}
	t.Run("record", func(t *testing.T) {
		for _, c := range clients {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
				defer fake.Close()
				// Each process its own state directory: CAs are created on
				// first use, and these start at once.
				rec := start(t, slices.Concat(env, []string{"METERVCR_CA_DIR=" + t.TempDir()}), "record", "--cassette", paths[c.name], "--upstream", fake.URL)
				got := c.run(t, rec.URL, calls)
				checkAnswers(t, c.name+" recording", calls, got)
				mu.Lock()
				recorded[c.name] = redactAnswers(t, crossKey, calls, got)
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	replayedAt := recordedAt.Add(-2 * time.Hour)
	full := append(session(replayedAt), missCall(replayedAt))
	replays := map[string]*process{}
	for _, c := range clients {
		replays[c.name] = start(t, freshEnv(t), "replay", "--cassette", paths[c.name])
	}
	t.Run("replay", func(t *testing.T) {
		for _, from := range clients {
			for _, to := range clients {
				t.Run(from.name+"-to-"+to.name, func(t *testing.T) {
					t.Parallel()
					picked := replayedCalls(full, from.name, to.name)
					calls := make([]call, len(picked))
					for j, i := range picked {
						calls[j] = full[i]
					}
					got := to.run(t, replays[from.name].URL, calls)
					checkAnswers(t, to.name+" replaying the "+from.name+" cassette", calls, got)
					for j, i := range picked {
						if i >= len(recorded[from.name]) {
							if to.name != "cli" && got[j].Status != 404 {
								t.Errorf("%s: miss surfaced with HTTP %d, want 404", to.name, got[j].Status)
							}
							continue
						}
						g, want := got[j], recorded[from.name][i]
						if predatesLicenseArn[from.name] || predatesLicenseArn[to.name] {
							g.Output = withoutMembers(g.Output, "LicenseArn")
							want.Output = withoutMembers(want.Output, "LicenseArn")
						}
						if !sameAnswer(g, want) {
							t.Errorf("%s replaying the %s cassette, call %d:\n got %v\nwant %v", to.name, from.name, i, g, want)
						}
					}
				})
			}
		}
	})

	// Every recording was used; the only misses are the unrecorded calls.
	for _, c := range clients {
		misses := 0
		for _, to := range clients {
			if picked := replayedCalls(full, c.name, to.name); picked[len(picked)-1] == len(full)-1 {
				misses++
			}
		}
		p := replays[c.name]
		p.stop(t)
		want := fmt.Sprintf("replay summary: %d request(s) missed (%s); 0 recorded interaction(s) never used",
			misses, strings.Repeat("MeterUsage, ", misses-1)+"MeterUsage")
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("replay of the %s cassette: stderr lacks %q:\n%s", c.name, want, p.stderr)
		}
	}
}

// predatesLicenseArn names the clients whose Metering model predates
// ResolveCustomer's LicenseArn, so that they neither show nor send it:
// Debian's AWS CLI 2.9 and botocore 1.29.
var predatesLicenseArn = map[string]bool{"cli": true, "python": true}

// replayedCalls picks, by index, the calls of full that client to makes
// when replaying the cassette client from recorded. Every client makes
// them all, but the CLI spends half a second of CPU per call: replaying the
// other clients' cassettes it makes one successful call per operation,
// which is where the clients' requests differ; error answers and misses
// are the same for any request, and its own cassette tests those.
func replayedCalls(full []call, from, to string) []int {
	var picked []int
	for i, c := range full {
		if to == "cli" && from != "cli" && c.WantError != "" {
			continue
		}
		picked = append(picked, i)
	}
	return picked
}

// redactAnswers returns what replay serves for answers a client got while
// recording: the same, with the buyer's account id as its placeholder
// under key.
func redactAnswers(t *testing.T, key []byte, calls []call, answers []answer) []answer {
	t.Helper()
	red, err := redact.New(key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]answer, len(answers))
	for i, a := range answers {
		out[i] = a
		if a.Output != "" {
			out[i].Output, _ = red.Body(calls[i].Op, a.Output)
		}
	}
	return out
}

// sameAnswer reports whether two clients were answered alike: the same
// output or error code, and the same HTTP status where both show one.
func sameAnswer(got, want answer) bool {
	if got.Op != want.Op || got.Output != want.Output || got.Error != want.Error {
		return false
	}
	return got.Status == 0 || want.Status == 0 || got.Status == want.Status
}
