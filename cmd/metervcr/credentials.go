package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
)

// credentialCheck bounds the start-up check of credentials from a source
// the user configured (a profile's keys, SSO, a role to assume, a
// credential process, a container endpoint), which may take a network
// round trip or two.
const credentialCheck = 10 * time.Second

// imdsCheck bounds the start-up check when the chain found nothing
// configured and fell through to the EC2 instance metadata service. On EC2
// it answers its three requests (token, role, credentials) within
// milliseconds. Elsewhere its link-local address leads nowhere, and the
// SDK's own bounds (a 250 ms dial, 3 attempts with up to 1 s of backoff,
// 5 s per operation) would hold start-up for seconds to learn nothing. The
// SDK makes no call at all when AWS_EC2_METADATA_DISABLED is true.
const imdsCheck = time.Second

// fixCredentials says how to give metervcr credentials.
const fixCredentials = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in metervcr's environment and restart it"

// loadCredentials returns the proxy's own credentials from the standard
// AWS chain (environment, shared files and profile, SSO, container, IMDS),
// checked once so that a problem shows at start. When there are none to
// use it returns nil and why: recording goes on without them, since
// forward-proxy calls keep the client's own signature. A configuration
// that cannot be read at all (a profile that does not exist, a malformed
// file) is an error.
func loadCredentials(ctx context.Context, region string) (creds aws.CredentialsProvider, missing string, err error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, "", usageError("loading AWS configuration: %v; fix the profile named by AWS_PROFILE or the files named by AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE", err)
	}
	if cfg.Credentials == nil {
		return nil, "none configured", nil
	}
	timeout := credentialCheck
	imds := aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil))
	if imds {
		timeout = imdsCheck
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = cfg.Credentials.Retrieve(cctx)
	switch {
	case err == nil:
		return cfg.Credentials, "", nil
	case !imds:
		return nil, err.Error(), nil
	case strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true"): // as the SDK reads it
		return nil, "none in the environment or the shared config files, and AWS_EC2_METADATA_DISABLED turns off the EC2 instance metadata service", nil
	case cctx.Err() != nil:
		return nil, fmt.Sprintf("none in the environment or the shared config files, and no EC2 instance role answered within %v", imdsCheck), nil
	}
	return nil, fmt.Sprintf("none in the environment or the shared config files, and no EC2 instance role: %v", err), nil
}

// warnNoCredentials says on w, and in log, that calls (the endpoint-mode
// calls that would go upstream) will be refused for want of credentials,
// missing saying why there are none, while forward-proxy calls are
// recorded; and how to fix it.
func warnNoCredentials(w io.Writer, log *slog.Logger, calls, missing string) {
	fmt.Fprintf(w, "metervcr: no AWS credentials (%s): %s cannot be re-signed and will be refused until you %s; "+
		"forward-proxy calls (HTTPS_PROXY) keep their own signature and are recorded\n", missing, calls, fixCredentials)
	log.Warn("no AWS credentials: "+calls+" will be refused, forward-proxy calls are recorded", "reason", missing, "fix", fixCredentials)
}
