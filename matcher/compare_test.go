package matcher

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func compareFiles(t *testing.T, oldPath, newPath string) Comparison {
	t.Helper()
	old, err := cassettes.Load(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	new, err := cassettes.Load(newPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := redact.New([]byte("diff tests placeholder key"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Default(r))
	if err != nil {
		t.Fatal(err)
	}
	return Compare(m, old.Interactions, new.Interactions)
}

// TestCompareGolden compares the demo session with a re-recording of it
// whose signatures, dates, client tokens, nonces, timestamps, record ids
// and request ids all changed, and in which five things really changed.
func TestCompareGolden(t *testing.T) {
	t.Parallel()
	cmp := compareFiles(t, "testdata/diff-old.yaml", "testdata/diff-new.yaml")
	var b bytes.Buffer
	for _, c := range cmp.Changes {
		b.WriteString(c.String() + "\n")
	}
	path := filepath.Join("testdata", "diff.golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("Compare output differs from %s (rewrite with go test -run TestCompareGolden -update):\ngot:\n%s\nwant:\n%s", path, b.Bytes(), want)
	}
	if cmp.Unchanged != 4 {
		t.Errorf("Unchanged = %d, want 4 (MeterUsage 0 and 2, ResolveCustomer 5, RegisterUsage 7)", cmp.Unchanged)
	}
}

func TestCompareIgnoresRecordingNoise(t *testing.T) {
	t.Parallel()
	cmp := compareFiles(t, "testdata/diff-old.yaml", "testdata/diff-old.yaml")
	if len(cmp.Changes) != 0 || cmp.Unchanged != 8 {
		t.Fatalf("a cassette compared with itself: %+v, want 8 unchanged", cmp)
	}
	var kinds []string
	for _, c := range compareFiles(t, "testdata/diff-old.yaml", "testdata/diff-new.yaml").Changes {
		kinds = append(kinds, c.Kind)
		for _, f := range c.Fields {
			for _, noise := range []string{"MeteringRecordId", "Timestamp", "ClientToken", "Nonce", "Signature"} {
				if strings.Contains(f.Field, noise) {
					t.Errorf("change %v reports %s, which changes on every recording", c, noise)
				}
			}
		}
	}
	if got := strings.Join(kinds, " "); got != "removed removed added added changed changed" {
		t.Errorf("kinds = %s, want removed removed added added changed changed", got)
	}
}

// TestComparePairsInRecordedOrder: two recordings of one request pair
// with two re-recordings in order; a third is added.
func TestComparePairsInRecordedOrder(t *testing.T) {
	t.Parallel()
	c, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	mu := c.Interactions[0]
	throttled := c.Interactions[3]
	same := func(resp *cassettes.Interaction) *cassettes.Interaction {
		cp := *mu
		cp.Response = resp.Response
		return &cp
	}
	old := []*cassettes.Interaction{same(mu), same(throttled)}
	new := []*cassettes.Interaction{same(mu), same(throttled), same(throttled)}
	m, _ := New(Default(nil))
	cmp := Compare(m, old, new)
	if len(cmp.Changes) != 1 || cmp.Changes[0].Kind != "added" || cmp.Changes[0].New != 2 || cmp.Unchanged != 2 {
		t.Fatalf("Compare = %+v, want only new #2 added", cmp)
	}
	cmp = Compare(m, new[1:], old)
	if len(cmp.Changes) != 1 || cmp.Changes[0].Kind != "changed" || cmp.Changes[0].Old != 0 || cmp.Changes[0].New != 0 || cmp.Unchanged != 1 {
		t.Fatalf("Compare(throttled, throttled → ok, throttled) = %+v, want old #0 = new #0 changed, the second pair unchanged", cmp)
	}
}
