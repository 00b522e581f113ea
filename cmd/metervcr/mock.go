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

func mockCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "mock",
		Usage:     "simulate the Metering service with no cassette: validation, de-duplication, customers and errors",
		UsageText: "metervcr mock [--listen ADDR] [--customers FILE] [--verify-signatures] [--inject LIST [--seed N]]",
		Description: "mock answers the four operations as the service does, from a model rather than a cassette:\n" +
			"it validates every input (required members, lengths and patterns, 0..25 records, the\n" +
			"6-hour MeterUsage and 24-hour BatchMeterUsage windows, allocations adding up to the\n" +
			"quantity), de-duplicates usage (an identical MeterUsage in the same hour gets the same\n" +
			"MeteringRecordId, a different quantity DuplicateRequestException; a batch record\n" +
			"repeated with another quantity is DuplicateRecord), resolves registration tokens from\n" +
			"--customers (or the built-in customers the README lists) and answers unknown customers\n" +
			"with CustomerNotSubscribed. Product code throttled-product-example is always throttled.\n" +
			"State lives in memory until the process exits. Signatures are not verified unless\n" +
			"--verify-signatures is given; their shape and clock are (--aws-checks).",
		Flags: []cli.Flag{
			listenFlag(),
			&cli.StringFlag{Name: "customers", EnvVars: []string{"METERVCR_CUSTOMERS"},
				Usage: "YAML list of {token, customerIdentifier, customerAWSAccountId, productCode[, dimensions]}; its product codes are the only ones that exist; default: the built-in customers"},
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
			handler, err := withInject(c, proxy.CheckHandler(checks, nil, fakeaws.New(cfg)), log, stderr)
			if err != nil {
				return err
			}
			return serve(c.Context, c.String("listen"), handler, log, stderr, func(u string) {
				fmt.Fprintf(stderr, "metervcr: mock Marketplace Metering service on %s\n", u)
				printMockHowTo(stderr, u, cfg)
			})
		},
	}
}

// mockConfig returns the model's configuration: the customers of file, or
// the built-in ones when file is empty, and signatures checked only when
// verify is set.
func mockConfig(file string, verify bool) (fakeaws.Config, error) {
	cfg := fakeaws.Config{SkipSignatures: !verify}
	if file == "" {
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
	return cfg, nil
}

// printMockHowTo tells people how to reach the mock, what it knows and how
// to sign for it. The mock serves endpoint mode only: it has no CA to
// intercept HTTPS with.
func printMockHowTo(w io.Writer, url string, cfg fakeaws.Config) {
	fmt.Fprintf(w, "metervcr: endpoint mode: aws --endpoint-url %s ...  or  export AWS_ENDPOINT_URL_MARKETPLACE_METERING=%s\n", url, url)
	products, customers := cfg.Products, cfg.Customers
	if products == nil {
		products = fakeaws.DefaultProducts
	}
	if customers == nil {
		customers = fakeaws.DefaultCustomers
	}
	fmt.Fprintf(w, "metervcr: products: %s (%s is always throttled)\n", shortList(products), fakeaws.ThrottledProduct)
	var tokens []string
	for _, c := range customers {
		if c.Token == "" {
			continue
		}
		ids := strings.Trim(c.CustomerIdentifier+"/"+c.CustomerAWSAccountID, "/")
		tokens = append(tokens, fmt.Sprintf("%s -> %s of %s", c.Token, ids, c.ProductCode))
	}
	if len(tokens) > 0 {
		fmt.Fprintf(w, "metervcr: registration tokens: %s\n", shortList(tokens))
	}
	env := "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
	if cfg.SkipSignatures {
		fmt.Fprintln(w, "metervcr: signatures are not checked: any credentials will do (--verify-signatures checks them)")
	} else {
		key := fakeaws.DefaultCredentials[0]
		env = "AWS_ACCESS_KEY_ID=" + key.AccessKeyID + " AWS_SECRET_ACCESS_KEY=" + key.SecretAccessKey
		tmp := fakeaws.DefaultCredentials[1]
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
}

// shortList joins the first mockShown items and says how many more exist.
func shortList(items []string) string {
	if len(items) <= mockShown {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:mockShown], ", "), len(items)-mockShown)
}
