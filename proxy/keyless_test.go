package proxy_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// keyedTokensCassette is the demo cassette as metervcr recorded it when
// placeholders of tokens were keyed (with redact.DemoKey).
const keyedTokensCassette = "../cassettes/testdata/keyed-tokens.yaml"

// TestReplayWithoutKey replays, with no redaction key, a session recorded
// with one, as a CI runner that never had the key does. The real
// registration token matches its keyless placeholder, and the pseudonyms
// the replayed ResolveCustomer hands out match; the buyer's real account
// id cannot, and the miss says why and names both ways out. With the key,
// the real account id matches.
func TestReplayWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := recordWith(t, path, upstream, sessionCreds, testRedactor(t, testKey), io.Discard)
	customer := fakeaws.DefaultCustomers()[0]
	// What the application gets while recording: the real account id and
	// license.
	real, err := client(rec.URL, clientCreds).ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(customer.Token)})
	if err != nil {
		t.Fatal(err)
	}
	account, license := aws.ToString(real.CustomerAWSAccountId), aws.ToString(real.LicenseArn)
	if got, err := session(ctx, client(rec.URL, clientCreds), customer.Token, time.Now()); err != nil || strings.Join(got, ",") != "Success" {
		t.Fatalf("recording session = %v, %v; want one Success", got, err)
	}
	upstream.Close()

	_, keyless := startReplayer(t, path, nil)
	c := client(keyless.URL, replayCreds)
	if got, err := session(ctx, c, customer.Token, time.Now()); err != nil || strings.Join(got, ",") != "Success" {
		t.Fatalf("keyless replay of the session with the real token = %v, %v; want one Success", got, err)
	}

	red := testRedactor(t, testKey)
	pseudonym, pseudoLicense := red.Value("account-id", account), red.Value("arn", license)
	_, err = meterAccount(ctx, c, account, license)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoRecordedInteraction" {
		t.Fatalf("keyless replay with the real account id: error %v, want NoRecordedInteraction", err)
	}
	for _, want := range []string{"no redaction key", "ending " + account[8:], pseudonym, "METERVCR_REDACTION_KEY"} {
		if !strings.Contains(apiErr.ErrorMessage(), want) {
			t.Errorf("miss message lacks %q:\n%s", want, apiErr.ErrorMessage())
		}
	}
	if _, err := meterAccount(ctx, c, pseudonym, pseudoLicense); err != nil {
		t.Errorf("keyless replay with the pseudonyms %s and %s: %v, want a match", pseudonym, pseudoLicense, err)
	}

	_, keyed := startReplayer(t, path, testKey)
	if _, err := meterAccount(ctx, client(keyed.URL, replayCreds), account, license); err != nil {
		t.Errorf("keyed replay with the real account id: %v, want a match", err)
	}
}

// meterAccount meters what session meters, for account and license.
func meterAccount(ctx context.Context, c *mm.Client, account, license string) (*mm.BatchMeterUsageOutput, error) {
	return c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{{
		CustomerAWSAccountId: aws.String(account), LicenseArn: aws.String(license),
		Dimension: aws.String("users"), Quantity: aws.Int32(3), Timestamp: aws.Time(time.Now()),
	}}})
}

// TestKeyedTokensOfEarlierCassettes: a cassette whose tokens have keyed
// placeholders still replays the real token where its key is, and says at
// shutdown how to make it keyless; without the key the miss says the
// same. Once redact rewrites the token given to it, the cassette replays
// with no key.
func TestKeyedTokensOfEarlierCassettes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	token := fakeaws.DefaultCustomers()[0].Token
	resolve := func(url string) (*mm.ResolveCustomerOutput, error) {
		return client(url, replayCreds).ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
	}

	p, keyed := startReplayer(t, keyedTokensCassette, redact.DemoKey())
	if out, err := resolve(keyed.URL); err != nil || aws.ToString(out.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("keyed replay of a keyed token = %v, %v; want cust-EXAMPLE123", out, err)
	}
	if sum := p.Summary(); sum.KeyedTokens != 1 || !strings.Contains(sum.String(), "metervcr redact --token TOKEN") {
		t.Errorf("summary = %q (%d keyed tokens), want 1 and the redact command", sum.String(), sum.KeyedTokens)
	}

	_, keyless := startReplayer(t, keyedTokensCassette, nil)
	_, err := resolve(keyless.URL)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.ErrorMessage(), "keyed placeholder") ||
		!strings.Contains(apiErr.ErrorMessage(), "metervcr redact --token TOKEN") {
		t.Fatalf("keyless replay of a keyed token: error %v, want a miss naming the keyed placeholder and redact --token", err)
	}

	data, err := os.ReadFile(keyedTokensCassette)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rewritten.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	red := testRedactor(t, redact.DemoKey())
	if err := red.Unkey([]string{token}); err != nil {
		t.Fatal(err)
	}
	done, _, err := red.File(path)
	if err != nil || len(done) != 1 {
		t.Fatalf("redact --token = %v, %v; want one rewritten placeholder", done, err)
	}
	_, rewritten := startReplayer(t, path, nil)
	if out, err := resolve(rewritten.URL); err != nil || aws.ToString(out.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("keyless replay after redact --token = %v, %v; want cust-EXAMPLE123", out, err)
	}
}
