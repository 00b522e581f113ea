package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// mockShown bounds how many products and tokens mock lists at start.
const mockShown = 5

func mockCommand(stderr io.Writer, sc serveConfig) *cli.Command {
	return &cli.Command{
		Name:      "mock",
		Usage:     "simulate the Metering service with no cassette: validation, de-duplication, customers and errors",
		UsageText: "metervcr mock [--listen ADDR] [--customers FILE] [--verify-signatures] [--inject LIST [--seed N]]",
		Description: "mock answers the four operations as the service does, from a model rather than a cassette:\n" +
			"it validates every input (required members, lengths and patterns, 0..25 records, the\n" +
			"6-hour MeterUsage and 24-hour BatchMeterUsage windows, allocations adding up to the\n" +
			"quantity), de-duplicates usage (an identical MeterUsage in the same hour gets the same\n" +
			"MeteringRecordId, a different quantity DuplicateRequestException; a batch record\n" +
			"repeated with another quantity is DuplicateRecord) and answers with the service's errors.\n\n" +
			"Without --customers it accepts your own values: every product code and dimension the\n" +
			"API model accepts exists, every registration token resolves to a customer derived\n" +
			"from the token (the same token, the same customer, in every process), and\n" +
			"BatchMeterUsage meters any customer. The README's built-in tokens resolve as listed.\n" +
			"With --customers FILE it is strict: the file's products and tokens are the only ones\n" +
			"that exist, and customers it does not list are CustomerNotSubscribed.\n\n" +
			"These values reach the errors in either case:\n" + reservedLines("  ") + "\n" +
			"State lives in memory until the process exits; POST " + fakeaws.ResetPath + " forgets it\n" +
			"between tests. Signatures are not verified unless --verify-signatures is given; their\n" +
			"shape and clock are (--aws-checks).",
		Flags: []cli.Flag{
			listenFlag(),
			&cli.StringFlag{Name: "customers", EnvVars: []string{"METERVCR_CUSTOMERS"},
				Usage: "YAML list of {token, customerIdentifier, customerAWSAccountId, productCode[, dimensions]}: only these products, tokens and customers exist; default: any well-formed value exists"},
			&cli.BoolFlag{Name: "verify-signatures", EnvVars: []string{"METERVCR_VERIFY_SIGNATURES"},
				Usage: "check SigV4 signatures against the test key pairs printed at start, and answer bad ones as AWS does (403)"},
			&cli.StringFlag{Name: "aws-checks", Value: "all", EnvVars: []string{"METERVCR_AWS_CHECKS"},
				Usage: "checks of the request's shape made before the model answers: all, signature (SigV4 shape and clock, even without --verify-signatures), metering, or off"},
			injectFlag(),
			seedFlag(),
			logFormatFlag(), logLevelFlag(),
		},
		Action: func(c *cli.Context) error {
			log := commandLogger(c, stderr)
			cfg, err := mockConfig(c.String("customers"), c.Bool("verify-signatures"))
			if err != nil {
				return err
			}
			cfg.Log = log
			checks, err := proxy.ParseChecks(c.String("aws-checks"))
			if err != nil {
				return usageError("--aws-checks: %v", err)
			}
			model := fakeaws.New(cfg)
			handler, err := withInject(c, proxy.CheckHandler(checks, nil, model), log, stderr)
			if err != nil {
				return err
			}
			handler = model.WithReset(handler)
			handler = proxy.HealthHandler(proxy.Health{Mode: "mock"}, log, handler)
			return sc.serve(c.Context, c.String("listen"), handler, log, stderr, func(u string) {
				fmt.Fprintf(stderr, "metervcr: mock Marketplace Metering service on %s\n", u)
				printMockHowTo(stderr, u, cfg)
			})
		},
	}
}

// mockConfig returns the model's configuration: strict with the customers
// of file, or open (any well-formed value exists, besides the built-in
// customers) when file is empty, and signatures checked only when verify
// is set.
func mockConfig(file string, verify bool) (fakeaws.Config, error) {
	cfg := fakeaws.Config{SkipSignatures: !verify}
	if file == "" {
		cfg.Open = true
		return cfg, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return cfg, usageError("--customers: %v", err)
	}
	parsed, err := fakeaws.ParseCustomers(data)
	if err != nil {
		return cfg, usageError("--customers %s: %v; the file is a YAML list of {token, customerIdentifier, customerAWSAccountId, productCode}", file, err)
	}
	cfg.Customers, cfg.Products, cfg.Dimensions = parsed.Customers, parsed.Products, parsed.Dimensions
	cfg.CustomersFile = "--customers " + file
	return cfg, nil
}

// printMockHowTo tells people how to reach the mock, what it knows and how
// to sign for it. The mock serves endpoint mode only: it has no CA to
// intercept HTTPS with.
func printMockHowTo(w io.Writer, url string, cfg fakeaws.Config) {
	fmt.Fprintf(w, "metervcr: endpoint mode: aws --endpoint-url %s ...  or  export AWS_ENDPOINT_URL_MARKETPLACE_METERING=%s\n", url, url)
	products, customers := cfg.Products, cfg.Customers
	if products == nil {
		products = fakeaws.DefaultProducts()
	}
	if customers == nil {
		customers = fakeaws.DefaultCustomers()
	}
	var tokens []string
	for _, c := range customers {
		if c.Token == "" {
			continue
		}
		ids := strings.Trim(c.CustomerIdentifier+"/"+c.CustomerAWSAccountID, "/")
		tokens = append(tokens, fmt.Sprintf("%s -> %s of %s", c.Token, ids, c.ProductCode))
	}
	if cfg.Open {
		fmt.Fprintf(w, "metervcr: products: any product code and dimension the API accepts, e.g. %s\n", shortList(products))
		fmt.Fprintf(w, "metervcr: registration tokens: any token resolves to a customer derived from it; built in: %s\n", shortList(tokens))
		fmt.Fprintln(w, "metervcr: BatchMeterUsage meters any customer; --customers FILE makes only the file's products, tokens and customers exist")
	} else {
		fmt.Fprintf(w, "metervcr: products: %s\n", shortList(products))
		if len(tokens) > 0 {
			fmt.Fprintf(w, "metervcr: registration tokens: %s\n", shortList(tokens))
		}
	}
	fmt.Fprintf(w, "metervcr: reserved values:\n%s", reservedLines("  "))
	env := "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
	if cfg.SkipSignatures {
		fmt.Fprintln(w, "metervcr: signatures are not checked: any credentials will do (--verify-signatures checks them)")
	} else {
		key := fakeaws.DefaultCredentials()[0]
		env = "AWS_ACCESS_KEY_ID=" + key.AccessKeyID + " AWS_SECRET_ACCESS_KEY=" + key.SecretAccessKey
		tmp := fakeaws.DefaultCredentials()[1]
		fmt.Fprintf(w, "metervcr: signatures are checked; sign with a test key pair:\n  %s\n  or AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s\n",
			env, tmp.AccessKeyID, tmp.SecretAccessKey, tmp.SessionToken)
	}
	dimension := "requests"
	if dims := cfg.Dimensions[products[0]]; len(dims) > 0 {
		dimension = dims[0]
	}
	fmt.Fprintf(w, "metervcr: try:\n  %s aws --region us-east-1 --endpoint-url %s \\\n"+
		"    meteringmarketplace meter-usage --product-code %s --usage-dimension %s --usage-quantity 1 --timestamp $(date +%%s)\n",
		env, url, products[0], dimension)
	fmt.Fprintf(w, "metervcr: between tests, forget metered usage: curl -X POST %s%s\n", url, fakeaws.ResetPath)
}

// shortList joins the first mockShown items and says how many more exist.
func shortList(items []string) string {
	if len(items) <= mockShown {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:mockShown], ", "), len(items)-mockShown)
}

// reservedLines lists the values that reach the model's errors, one per
// line, each after indent.
func reservedLines(indent string) string {
	var b strings.Builder
	for _, r := range fakeaws.Reserved() {
		fmt.Fprintf(&b, "%s%s\n", indent, r)
	}
	return b.String()
}
