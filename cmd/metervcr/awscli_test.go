package main

import (
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// debianAWS is the AWS CLI from Debian's awscli package, which .ci/run
// installs. It is named by path: other installs (pip, pyenv) may shadow it
// on PATH and behave differently.
const debianAWS = "/usr/bin/aws"

// awsCLI runs the AWS CLI against url and returns its exit code and output.
func awsCLI(t *testing.T, url string, creds fakeaws.Credential, args ...string) (int, string) {
	t.Helper()
	return runAWSCLI(t, nil, creds, append([]string{"--endpoint-url", url}, args...)...)
}

// runAWSCLI runs the AWS CLI with a clean environment plus env.
func runAWSCLI(t *testing.T, env []string, creds fakeaws.Credential, args ...string) (int, string) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(debianAWS, append([]string{"--region", "us-east-1", "--output", "json", "meteringmarketplace"}, args...)...)
	cmd.Env = append(env,
		"HOME="+home, "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_CONFIG_FILE="+filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatalf("running %s: %v (is Debian's awscli installed? .ci/run installs it)", debianAWS, err)
	}
	return 0, string(out)
}

// TestAWSCLIWalkthrough is the README's walkthrough with Debian's AWS CLI:
// record through --endpoint-url against the fake, then replay offline.
func TestAWSCLIWalkthrough(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	path := filepath.Join(t.TempDir(), "cli.yaml")
	stateDir := t.TempDir()
	env := append(recordEnv(t), "METERVCR_CA_DIR="+stateDir)
	rec := start(t, env, "record", "--cassette", path, "--upstream", fake.URL)

	cliCreds := fakeaws.Credential{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}
	meter := []string{"meter-usage", "--product-code", cassettes.DemoProduct, "--usage-dimension", cassettes.DemoDimension,
		"--usage-quantity", "10", "--timestamp", time.Now().UTC().Format(time.RFC3339)}
	resolveBad := []string{"resolve-customer", "--registration-token", "not-a-real-token"}
	code, recorded := awsCLI(t, rec.URL, cliCreds, meter...)
	if code != 0 || !strings.Contains(recorded, "MeteringRecordId") {
		t.Fatalf("recording meter-usage: exit %d\n%s", code, recorded)
	}
	if code, out := awsCLI(t, rec.URL, cliCreds, resolveBad...); code == 0 || !strings.Contains(out, "InvalidTokenException") {
		t.Fatalf("recording resolve-customer with a bad token: exit %d\n%s", code, out)
	}
	rec.cmd.Process.Kill()
	fake.Close()

	rep := start(t, []string{"METERVCR_CA_DIR=" + stateDir}, "replay", "--cassette", path)
	replayCreds := fakeaws.Credential{AccessKeyID: "ASIAJEXAMPLEXEG2JICEA", SecretAccessKey: "9drTJvcXLB89EXAMPLELB8923FB892xMFI", SessionToken: "FwoGZXIvYXdzEXAMPLE"}
	meter[len(meter)-1] = time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	code, replayed := awsCLI(t, rep.URL, replayCreds, meter...)
	if code != 0 || replayed != recorded {
		t.Fatalf("replayed meter-usage: exit %d\n%s\nwant\n%s", code, replayed, recorded)
	}
	if code, out := awsCLI(t, rep.URL, replayCreds, resolveBad...); code == 0 || !strings.Contains(out, "InvalidTokenException") {
		t.Fatalf("replayed resolve-customer with a bad token: exit %d\n%s", code, out)
	}
	meter[6] = "11" // --usage-quantity
	if code, out := awsCLI(t, rep.URL, replayCreds, meter...); code == 0 || !strings.Contains(out, "NoRecordedInteraction") || !strings.Contains(out, "UsageQuantity (recorded 10, got 11)") {
		t.Fatalf("unrecorded meter-usage: exit %d\n%s", code, out)
	}
}

// TestAWSCLIThroughHTTPSProxy: an unchanged AWS CLI, given only
// HTTPS_PROXY and AWS_CA_BUNDLE, records meter-usage and batch-meter-usage
// through the proxy (its own signature reaches the fake intact) and
// replays them offline.
func TestAWSCLIThroughHTTPSProxy(t *testing.T) {
	t.Parallel()
	_, fake, fakeCA := tlsFake(t)
	path := filepath.Join(t.TempDir(), "forward.yaml")
	stateDir := t.TempDir()
	env := append(recordEnv(t), "METERVCR_CA_DIR="+stateDir)
	rec := start(t, env, "record", "--cassette", path, "--upstream", fake.URL, "--upstream-ca", fakeCA)
	through := func(p *process) []string {
		return []string{"HTTPS_PROXY=" + p.URL, "AWS_CA_BUNDLE=" + filepath.Join(stateDir, "ca.pem"), "NO_PROXY="}
	}
	customer := fakeaws.DefaultCustomers()[0]
	calls := [][]string{
		{"meter-usage", "--product-code", cassettes.DemoProduct, "--usage-dimension", "forwarded", "--usage-quantity", "4",
			"--timestamp", time.Now().UTC().Format(time.RFC3339)},
		{"batch-meter-usage", "--product-code", customer.ProductCode, "--usage-records",
			`[{"Timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `","CustomerIdentifier":"` + customer.CustomerIdentifier + `","Dimension":"users","Quantity":2}]`},
	}
	cliCreds := fakeaws.DefaultCredentials()[0] // the fake checks the CLI's own signature
	var recorded []string
	for _, call := range calls {
		code, out := runAWSCLI(t, through(rec), cliCreds, call...)
		if code != 0 {
			t.Fatalf("recording %s through HTTPS_PROXY: exit %d\n%s\nproxy log:\n%s", call[0], code, out, rec.stderr)
		}
		recorded = append(recorded, out)
	}
	rec.cmd.Process.Kill()
	fake.Close()

	rep := start(t, []string{"METERVCR_CA_DIR=" + stateDir}, "replay", "--cassette", path)
	other := fakeaws.Credential{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}
	for i, call := range calls {
		code, out := runAWSCLI(t, through(rep), other, call...)
		if code != 0 || out != recorded[i] {
			t.Fatalf("replaying %s through HTTPS_PROXY: exit %d\n%s\nwant\n%s", call[0], code, out, recorded[i])
		}
	}
}
