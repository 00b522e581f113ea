package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes/redact"
)

// The audit commands run in-process; like every in-process CLI test they
// do not run in parallel (see main_test.go).

const (
	demoCassette    = "../../cassettes/demo.yaml"
	inspectCassette = "../../cassettes/audit/testdata/inspect.yaml"
	diffOld         = "../../matcher/testdata/diff-old.yaml"
	diffNew         = "../../matcher/testdata/diff-new.yaml"
)

// copyDemo writes a copy of the demo cassette with edit applied to its
// text and returns its path.
func copyDemo(t *testing.T, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(demoCassette)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.yaml")
	if err := os.WriteFile(path, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// plantSecrets puts, by hand, a secret in each place verify searches: a
// request header, a URL query, a request body, a nested response record
// and an error message.
func plantSecrets(s string) string {
	for _, r := range [][2]string{
		{"- REDACTED-7980aa9b5d2b3b12", "- AWS4-HMAC-SHA256 Credential=AKIAI44QH8DHBEXAMPLE/20261128/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=abc"},
		{"url: https://metering.marketplace.us-east-1.amazonaws.com/\n        method: POST\n      response:\n        body: '{\"MeteringRecordId\":\"ce43",
			"url: https://metering.marketplace.us-east-1.amazonaws.com/?X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLEPLANTEDSESSIONTOKEN0123\n        method: POST\n      response:\n        body: '{\"MeteringRecordId\":\"ce43"},
		{`"RegistrationToken":"` + redact.KeylessPlaceholder("FAKE-REGISTRATION-TOKEN-EXAMPLE") + `"`, `"RegistrationToken":"FAKE-REGISTRATION-TOKEN-EXAMPLE"`},
		{`"UsageRecord":{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"admins"`, `"UsageRecord":{"CustomerAWSAccountId":"111122223333","Dimension":"admins"`},
		{`"message":"Rate exceeded"`, `"message":"Rate exceeded for account 444455556666"`},
	} {
		if !strings.Contains(s, r[0]) {
			panic("demo cassette changed; update plantSecrets: " + r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return s
}

var findingLine = regexp.MustCompile(`^\S+: interaction \d+: [^:]+: .+$`)

func TestVerify(t *testing.T) {
	code, out, errOut := runApp(t, "verify", demoCassette, inspectCassette)
	if code != 0 || !strings.Contains(out, "2 cassettes verified, 18 interactions: no secrets in clear") {
		t.Fatalf("verify of clean cassettes: exit %d, stdout %q, stderr %q; want 0 and a summary", code, out, errOut)
	}

	planted := copyDemo(t, plantSecrets)
	code, out, errOut = runApp(t, "verify", demoCassette, planted)
	if code != exitCheck {
		t.Fatalf("verify of planted secrets: exit %d, want 1; stdout:\n%s", code, out)
	}
	for _, want := range []string{
		planted + ": interaction 0: request header Authorization: Authorization value in clear",
		planted + ": interaction 1: request url query X-Amz-Security-Token: session token in clear",
		planted + ": interaction 3: response body message: AWS account id ********6666 not pseudonymised",
		planted + ": interaction 4: response body Results[1].UsageRecord.CustomerAWSAccountId: buyer AWS account id ********3333 not pseudonymised",
		planted + ": interaction 5: request body RegistrationToken: registration token in clear",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !findingLine.MatchString(line) {
			t.Errorf("line %q is not PATH: interaction N: where: what", line)
		}
		if strings.Contains(line, "AKIAI44QH8DHBEXAMPLE") || strings.Contains(line, "111122223333") {
			t.Errorf("line %q repeats a secret", line)
		}
	}
	if !strings.Contains(errOut, "metervcr redact") {
		t.Errorf("stderr does not say what to do: %q", errOut)
	}
}

func TestVerifyBadInput(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("version: 1\ninteractions: [\n  AKIAI44QH8DHBEXAMPLE\n"), 0o644)
	foreign := copyDemo(t, func(s string) string {
		return strings.Replace(s, "AWSMPMeteringService.RegisterUsage", "DynamoDB_20120810.GetItem", 1)
	})
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"no path", []string{"verify"}, exitUsage, nil, []string{"metervcr verify testdata/*.yaml"}},
		{"missing file", []string{"verify", demoCassette, filepath.Join(dir, "none")}, exitUsage, nil, []string{"none.yaml", "not found", "1 cassette could not be read"}},
		{"unparsable", []string{"verify", broken}, exitCheck, []string{broken + ": file: not a valid cassette", broken + ": line 3: AWS access key id AKIA…MPLE in clear"}, nil},
		{"not metering", []string{"verify", foreign}, exitCheck, []string{foreign + `: interaction 7: request header X-Amz-Target: "DynamoDB_20120810.GetItem" is not a Marketplace Metering operation`}, nil},
		{"bad config", []string{"verify", "--config", filepath.Join(dir, "none.yaml"), demoCassette}, exitUsage, nil, []string{"--config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runApp(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.code, out, errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestRedactThenVerify(t *testing.T) {
	planted := copyDemo(t, plantSecrets)
	caDir := t.TempDir()
	code, out, errOut := runApp(t, "redact", "--ca-dir", caDir, planted)
	if code != 0 || !strings.Contains(out, planted+": interaction 5: request body RegistrationToken: redacted: ") ||
		!strings.Contains(out, planted+": 5 values redacted") {
		t.Fatalf("redact: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(caDir, "redaction.key")); err != nil {
		t.Errorf("redact did not create the placeholder key: %v", err)
	}
	first, _ := os.ReadFile(planted)
	code, out, _ = runApp(t, "redact", "--ca-dir", caDir, planted)
	if second, _ := os.ReadFile(planted); code != 0 || out != planted+": nothing to redact\n" || string(first) != string(second) {
		t.Fatalf("second redact: exit %d, stdout %q, file changed %v; want nothing to redact", code, out, string(first) != string(second))
	}
	if code, out, _ := runApp(t, "verify", planted); code != 0 {
		t.Fatalf("verify after redact: exit %d\n%s", code, out)
	}
	if code, _, errOut := runApp(t, "redact", "--ca-dir", caDir, filepath.Join(t.TempDir(), "none")); code != exitUsage || !strings.Contains(errOut, "not found") {
		t.Fatalf("redact of a missing file: exit %d, stderr %q; want 2", code, errOut)
	}
}

func TestRedactionRulesFromConfigAndFlags(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "metervcr.yaml")
	os.WriteFile(config, []byte("redaction:\n  keep: [CustomerAWSAccountId]\n  fields:\n    - MeterUsage.UsageAllocations[].Tags[].Value\n"), 0o644)
	withAccount := copyDemo(t, func(s string) string {
		return strings.Replace(s, `"UsageRecord":{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"admins"`, `"UsageRecord":{"CustomerAWSAccountId":"111122223333","Dimension":"admins"`, 1)
	})
	if code, out, _ := runApp(t, "verify", withAccount); code != exitCheck {
		t.Fatalf("verify of a clear account id without rules: exit %d, want 1\n%s", code, out)
	}
	// The config keeps the account id, and its field rule makes the
	// demo's team=blue tag a finding.
	tag := withAccount + ": interaction 1: request body UsageAllocations[0].Tags[0].Value: in clear, though a redaction rule names this place\n"
	if code, out, errOut := runApp(t, "verify", "--config", config, withAccount); code != exitCheck || out != tag {
		t.Fatalf("verify with the config: exit %d, stdout:\n%s%s\nwant exit 1 and only:\n%s", code, out, errOut, tag)
	}
	if code, out, errOut := runApp(t, "verify", "--keep-field", "CustomerAWSAccountId", "--redact-field", "MeterUsage.UsageAllocations[].Tags[].Value=secret", withAccount); code != exitCheck || out != tag {
		t.Fatalf("verify with the same rules as flags: exit %d, stdout:\n%s%s\nwant exit 1 and only:\n%s", code, out, errOut, tag)
	}
	code, out, errOut := runApp(t, "redact", "--ca-dir", t.TempDir(), "--config", config, withAccount)
	if code != 0 || !strings.Contains(out, "interaction 1: request body UsageAllocations[0].Tags[0].Value: redacted") || strings.Contains(out, "CustomerAWSAccountId") {
		t.Fatalf("redact with the config: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runApp(t, "verify", "--config", config, withAccount); code != 0 {
		t.Fatalf("verify with the config after redact: exit %d, want 0\n%s%s", code, out, errOut)
	}
	bad := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"--config", writeFile(t, "redaction:\n  heders: [X]\n")}, "heders"},
		{"bad kind", []string{"--redact-field", "*.Foo=email"}, `unknown redaction kind "email"`},
		{"credential kept", []string{"--keep-field", "RegistrationToken"}, "cannot be kept"},
		{"nothing to keep", []string{"--keep-field", "ProductCode"}, "names no field redacted by default"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runApp(t, append(append([]string{"verify"}, tt.args...), demoCassette)...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
	if code, out, _ := runApp(t, "record", "--help"); code != 0 || !strings.Contains(out, "--redact-field") || !strings.Contains(out, "--config") {
		t.Errorf("record --help lacks the rule flags:\n%s", out)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInspectCommand(t *testing.T) {
	for _, f := range []struct{ format, want string }{
		{"table", "Metered usage per hour (UTC)"},
		{"json", `"meteringRecordId": "ee4d6217-b54c-4c9e-96a1-86270379d18e"`},
		{"csv", "path,index,operation,status,error,productCode,"},
	} {
		code, out, errOut := runApp(t, "inspect", "--format", f.format, demoCassette)
		if code != 0 || !strings.Contains(out, f.want) {
			t.Errorf("inspect --format %s: exit %d, stderr %q, stdout lacks %q:\n%s", f.format, code, errOut, f.want, out)
		}
	}
	for _, args := range [][]string{{"inspect"}, {"inspect", "--format", "xml", demoCassette}, {"inspect", filepath.Join(t.TempDir(), "none")}} {
		if code, _, errOut := runApp(t, args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, code, errOut)
		}
	}
}

func TestDiffCommand(t *testing.T) {
	code, out, _ := runApp(t, "diff", diffOld, diffNew)
	golden, err := os.ReadFile("../../matcher/testdata/diff.golden")
	if err != nil {
		t.Fatal(err)
	}
	want := string(golden) + diffOld + " → " + diffNew + ": 2 removed, 2 added, 2 changed, 4 unchanged\n"
	if code != exitCheck || out != want {
		t.Fatalf("diff: exit %d, stdout:\n%s\nwant exit 1 and:\n%s", code, out, want)
	}
	if code, out, _ := runApp(t, "diff", diffOld, diffOld); code != 0 || !strings.Contains(out, "match: 8 interactions answered alike") {
		t.Fatalf("diff of a cassette with itself: exit %d, stdout %q", code, out)
	}
	for _, args := range [][]string{{"diff", diffOld}, {"diff", diffOld, filepath.Join(t.TempDir(), "none")}} {
		if code, _, errOut := runApp(t, args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, code, errOut)
		}
	}
}
