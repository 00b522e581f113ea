package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// TestReadmeShowsConftest: the README's pytest fixture is
// tests/python/conftest.py, verbatim, so the fixture the next test runs is
// the one users copy.
func TestReadmeShowsConftest(t *testing.T) {
	t.Parallel()
	conftest, err := os.ReadFile(filepath.Join(pythonDir, "conftest.py"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if block := "```python\n" + string(conftest) + "```\n"; !strings.Contains(string(readme), block) {
		t.Errorf("README.md lacks tests/python/conftest.py as a python block; copy the file into the README:\n%s", block)
	}
}

// pytestModule is a test module for the fixture: MeterUsage and
// ResolveCustomer as recorded, then the extra Python source.
const pytestModule = `from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError


def test_meter_usage(metering):
    out = metering.meter_usage(ProductCode=%[1]q, UsageDimension=%[2]q, UsageQuantity=10,
                               Timestamp=datetime.now(timezone.utc))
    assert out["MeteringRecordId"]
%[4]s
def test_resolve_customer(metering):
    out = metering.resolve_customer(RegistrationToken=%[3]q)
    assert out["CustomerIdentifier"]
`

// TestPytestFixture runs pytest with the README's fixture on a cassette
// the Go SDK recorded: the session passes when the tests make exactly the
// recorded calls, and fails when a test makes an unrecorded call (even one
// the test expects to fail) or leaves a recording unused. However the
// session ends, no metervcr process is left running.
func TestPytestFixture(t *testing.T) {
	t.Parallel()
	customer := fakeaws.DefaultCustomers()[0]
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	cassette := filepath.Join(t.TempDir(), "metering.yaml")
	rec := start(t, recordEnv(t), "record", "--cassette", cassette, "--upstream", fake.URL)
	calls := []call{
		{Op: metering.MeterUsage, Input: map[string]any{"ProductCode": cassettes.DemoProduct, "UsageDimension": cassettes.DemoDimension,
			"UsageQuantity": 10, "Timestamp": time.Now().UTC().Format(time.RFC3339)}},
		{Op: metering.ResolveCustomer, Input: map[string]any{"RegistrationToken": customer.Token}},
	}
	checkAnswers(t, "Go SDK recording", calls, runGo(t, rec.URL, calls))
	rec.stop(t)
	fake.Close()
	conftest, err := os.ReadFile(filepath.Join(pythonDir, "conftest.py"))
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := os.ReadFile(cassette)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// extra is Python source between the module's two tests.
		extra string
		token string
		// env is added to the environment pytest runs in.
		env    []string
		wantOK bool
		want   []string
	}{
		{name: "recorded calls", token: customer.Token, wantOK: true, want: []string{"2 passed"}},
		{name: "unrecorded call", token: customer.Token, extra: `

def test_unrecorded(metering):
    with pytest.raises(ClientError) as err:
        metering.meter_usage(ProductCode="` + cassettes.DemoProduct + `", UsageDimension="unrecorded", UsageQuantity=1,
                             Timestamp=datetime.now(timezone.utc))
    assert err.value.response["Error"]["Code"] == "NoRecordedInteraction"
`, want: []string{"3 passed, 1 error", "metervcr replay --strict exited 1", "UsageDimension"}},
		{name: "recording never used", token: "not-a-real-token", want: []string{"1 failed, 1 passed, 1 error", "metervcr replay --strict exited 1"}},
		{name: "no client", token: customer.Token, env: []string{"AWS_PROFILE=missing"}, want: []string{"ProfileNotFound", "2 errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			module := fmt.Sprintf(pytestModule, cassettes.DemoProduct, cassettes.DemoDimension, tt.token, tt.extra)
			// Each session its own copy of the cassette, so that its
			// metervcr process can be told from the others'.
			own := filepath.Join(dir, "metering.yaml")
			for name, text := range map[string]string{"conftest.py": string(conftest), "test_metering.py": module, "metering.yaml": string(recorded)} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(debianPython, "-m", "pytest", "-p", "no:cacheprovider", "-q", dir)
			cmd.Dir = dir
			// botocore takes an empty AWS_PROFILE for a profile's name.
			env := slices.DeleteFunc(freshEnv(t), func(v string) bool { return v == "AWS_PROFILE=" })
			cmd.Env = slices.Concat(env, []string{"PATH=" + filepath.Dir(binary) + ":/usr/bin:/bin", "METERVCR_CASSETTE=" + own}, tt.env)
			out, err := cmd.CombinedOutput()
			if ok := err == nil; ok != tt.wantOK {
				t.Errorf("pytest: %v, want success %v:\n%s", err, tt.wantOK, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("pytest output lacks %q:\n%s", w, out)
				}
			}
			for _, pid := range processesWith(t, own) {
				t.Errorf("metervcr (pid %d) for %s still runs after pytest exited", pid, own)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
}

// processesWith returns the ids of the processes whose command line holds
// arg, read from /proc.
func processesWith(t *testing.T, arg string) []int {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process has exited since the glob
		}
		if slices.Contains(strings.Split(string(b), "\x00"), arg) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, pid)
		}
	}
	return pids
}
