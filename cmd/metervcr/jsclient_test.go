package main

import (
	"encoding/hex"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// TestJSSDKRecordAndReplay is the README's JavaScript walkthrough: the AWS
// SDK for JavaScript v3 records all four operations through metervcr with
// its endpoint option, then replays them configured only by
// AWS_ENDPOINT_URL_MARKETPLACE_METERING, and sees recorded and unrecorded
// errors as it shows any AWS error: error.name and the HTTP status in
// $metadata.
func TestJSSDKRecordAndReplay(t *testing.T) {
	t.Parallel()
	key := []byte("javascript test placeholder key")
	env := append(recordEnv(t), "METERVCR_REDACTION_KEY="+hex.EncodeToString(key))
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	path := filepath.Join(t.TempDir(), "js.yaml")
	rec := start(t, env, "record", "--cassette", path, "--upstream", fake.URL)
	now := time.Now()
	calls := session(now)
	recorded := runJS(t, rec.URL, calls)
	checkAnswers(t, "recording", calls, recorded)
	rec.cmd.Process.Kill()
	fake.Close()

	rep := start(t, env, "replay", "--cassette", path)
	later := now.Add(-90 * time.Minute)
	replayCalls := append(session(later), missCall(later))
	replayed := runJSWith(t, nil, []string{"AWS_ENDPOINT_URL_MARKETPLACE_METERING=" + rep.URL}, replayCalls)
	checkAnswers(t, "replay", replayCalls, replayed)
	want := redactAnswers(t, key, calls, recorded)
	for i := range want {
		if replayed[i] != want[i] {
			t.Errorf("replayed call %d:\n got %v\nwant %v", i, replayed[i], want[i])
		}
	}
	checkStatuses(t, "JavaScript SDK replay ($metadata.httpStatusCode)", replayed)
}
