package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites the file with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; create it with go test -run %s -update", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rewrite it with go test -run %s -update if the change is intended):\ngot:\n%s\nwant:\n%s", path, t.Name(), got, want)
	}
}

func loadInspectCassette(t *testing.T) *cassettes.Cassette {
	t.Helper()
	c, err := cassettes.Load("testdata/inspect.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInspectGolden(t *testing.T) {
	t.Parallel()
	rep := Inspect(loadInspectCassette(t))
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"inspect.table.golden", func(b *bytes.Buffer) error { return rep.WriteTable(b) }},
		{"inspect.json.golden", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"inspect.csv.golden", func(b *bytes.Buffer) error { return rep.WriteCSV(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, f.name, b.Bytes())
	}
}

func TestInspectTableFitsEightyColumns(t *testing.T) {
	t.Parallel()
	demo, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Inspect(loadInspectCassette(t), demo).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d columns, want at most 80: %q", n, line)
		}
	}
}

// TestInspectPairsBatchResults checks the pairing of request records
// with results that come back in another order, partly unprocessed.
func TestInspectPairsBatchResults(t *testing.T) {
	t.Parallel()
	rep := Inspect(loadInspectCassette(t))
	got := rep.Cassettes[0].Interactions[3]
	want := []struct {
		customer, dimension, result, id string
		quantity                        int64
	}{
		{"cust-1", "users", "Success", "mr-0003", 3},
		{"cust-2", "users", "Success", "mr-0004", 4},
		{"cust-1", "admins", ResultUnprocessed, "", 1},
		{"cust-3", "users", "CustomerNotSubscribed", "", 2},
		{"cust-1", "users", "DuplicateRecord", "mr-0003", 5},
	}
	if len(got.Records) != len(want) {
		t.Fatalf("BatchMeterUsage records = %+v, want %d", got.Records, len(want))
	}
	for i, w := range want {
		r := got.Records[i]
		if r.CustomerIdentifier != w.customer || r.Dimension != w.dimension || r.Result != w.result || r.MeteringRecordID != w.id || r.Quantity != w.quantity || r.ProductCode != "prod-b" {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}
}

func TestInspectJSONShape(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Inspect(loadInspectCassette(t)).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cassettes []struct {
			Path         string `json:"path"`
			Interactions []map[string]json.RawMessage
		}
		Totals []map[string]json.RawMessage
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	in := doc.Cassettes[0].Interactions[0]
	for _, k := range []string{"index", "operation", "status", "error", "records"} {
		if _, ok := in[k]; !ok {
			t.Errorf("interaction lacks %q: %v", k, in)
		}
	}
	var recs []map[string]json.RawMessage
	json.Unmarshal(in["records"], &recs)
	for _, k := range []string{"productCode", "customerIdentifier", "dimension", "quantity", "timestamp", "result", "meteringRecordId"} {
		if _, ok := recs[0][k]; !ok {
			t.Errorf("record lacks %q: %v", k, recs[0])
		}
	}
	for _, k := range []string{"productCode", "dimension", "customerIdentifier", "quantity"} {
		if _, ok := doc.Totals[0][k]; !ok {
			t.Errorf("total lacks %q: %v", k, doc.Totals[0])
		}
	}
}

func TestInspectCassetteVerifiesClean(t *testing.T) {
	t.Parallel()
	if found := redact.NewScanner().Cassette(loadInspectCassette(t)); len(found) != 0 {
		t.Fatalf("testdata/inspect.yaml findings = %v, want none", found)
	}
}
