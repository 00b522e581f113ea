package main

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// keyedTokensCassette is the demo cassette as metervcr recorded it when
// placeholders of tokens were keyed (with redact.DemoKey).
const keyedTokensCassette = "../../cassettes/testdata/keyed-tokens.yaml"

// TestKeyedTokensCassetteUpgrade: a cassette whose registration tokens have
// keyed placeholders replays the real token where its key is given
// (METERVCR_REDACTION_KEY), and its shutdown summary says how to make it
// keyless; a fresh runner without the key misses with the same advice.
// redact --token, run where the key is, rewrites the placeholders, and
// the cassette then replays on the fresh runner.
func TestKeyedTokensCassetteUpgrade(t *testing.T) {
	data, err := os.ReadFile(keyedTokensCassette)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "metering.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	demoKey := "METERVCR_REDACTION_KEY=" + hex.EncodeToString(redact.DemoKey())
	token := fakeaws.DefaultCustomers()[0].Token
	resolve := func(p *process) (*mm.ResolveCustomerOutput, error) {
		return sdk(p.URL).ResolveCustomer(context.Background(), &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
	}
	keyed := start(t, append(freshEnv(t), demoKey), "replay", "--cassette", path)
	if out, err := resolve(keyed); err != nil || aws.ToString(out.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("replay with the key: ResolveCustomer = %v, %v; want cust-EXAMPLE123", out, err)
	}
	keyed.stop(t)
	if !strings.Contains(keyed.stderr.String(), "metervcr redact --token TOKEN") {
		t.Errorf("replay with the key: summary does not say how to make the token keyless:\n%s", keyed.stderr)
	}

	fresh := start(t, freshEnv(t), "replay", "--cassette", path)
	_, err = resolve(fresh)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoRecordedInteraction" ||
		!strings.Contains(apiErr.ErrorMessage(), "metervcr redact --token TOKEN") {
		t.Fatalf("fresh replay of a keyed token: error %v, want NoRecordedInteraction naming redact --token", err)
	}
	fresh.stop(t)

	if code, _, errOut := runApp(t, "redact", "--ca-dir", t.TempDir(), "--token", token, path); code != exitUsage ||
		!strings.Contains(errOut, "METERVCR_REDACTION_KEY") {
		t.Errorf("redact --token without the key: exit %d, stderr %q; want %d naming METERVCR_REDACTION_KEY", code, errOut, exitUsage)
	}
	t.Setenv("METERVCR_REDACTION_KEY", hex.EncodeToString(redact.DemoKey()))
	code, out, errOut := runApp(t, "redact", "--token", token, path)
	if code != 0 || !strings.Contains(out, "interaction 5: request body RegistrationToken: redacted: keyed placeholder of a given token, now keyless") {
		t.Fatalf("redact --token: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The invalid token of interaction 6 was not given: it is still keyed.
	if !strings.Contains(out, "interaction 6: request body RegistrationToken: keyed placeholder of a token") {
		t.Errorf("redact --token does not list the token still keyed:\n%s", out)
	}

	fresh = start(t, freshEnv(t), "replay", "--cassette", path)
	if out, err := resolve(fresh); err != nil || aws.ToString(out.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("fresh replay after redact --token: ResolveCustomer = %v, %v; want cust-EXAMPLE123", out, err)
	}
	fresh.stop(t)
}
