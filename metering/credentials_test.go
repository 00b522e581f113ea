package metering

import (
	"fmt"
	"testing"
)

func TestCredentialPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		find     func(string) [][2]int
		want     []string
	}{
		{"key id", "Credential=AKIAIOSFODNN7EXAMPLE/2026", regexpFinder(AccessKeyID), []string{"AKIAIOSFODNN7EXAMPLE"}},
		{"temporary key id of 21", "ASIAJEXAMPLEXEG2JICEA", regexpFinder(AccessKeyID), []string{"ASIAJEXAMPLEXEG2JICEA"}},
		{"role id", `"AROAEXAMPLEID0123456"`, regexpFinder(AccessKeyID), []string{"AROAEXAMPLEID0123456"}},
		{"key id inside a word", "XAKIAIOSFODNN7EXAMPLE", regexpFinder(AccessKeyID), nil},
		{"short", "AKIA1234", regexpFinder(AccessKeyID), nil},
		{"session token", "token FwoGZXIvYXdzEXAMPLETOKENabcdefghij end", regexpFinder(SessionToken), []string{"FwoGZXIvYXdzEXAMPLETOKENabcdefghij"}},
		{"short session prefix", "IQoJshort", regexpFinder(SessionToken), nil},
		{"sigv4", "auth AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123 tail",
			regexpFinder(SigV4Authorization), []string{"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123"}},
		{"string to sign", "'AWS4-HMAC-SHA256\n20260102T030406Z\n20260102/us-east-1/aws-marketplace/aws4_request'", regexpFinder(SigV4Authorization), nil},
		{"secret key", "key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY;", FindSecretAccessKeys, []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"hex of 40", "da39a3ee5e6b4b0d3255bfef95601890afd80709", FindSecretAccessKeys, nil},
		{"41 characters", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX", FindSecretAccessKeys, nil},
		{"account ids", "accounts 111122223333, 444455556666.", FindAccountIDs, []string{"111122223333", "444455556666"}},
		{"account at ends", "111122223333", FindAccountIDs, []string{"111122223333"}},
		{"uuid group", "ee4d6217-b54c-4c9e-96a1-862703791234", FindAccountIDs, nil},
		{"longer number", "1234567890123 12345678901", FindAccountIDs, nil},
		{"decimal", "1.111122223333 111122223333.5", FindAccountIDs, nil},
		{"arn account", "arn:aws:license-manager::111122223333:license:l-1", FindAccountIDs, nil},
		{"in a word", "cust111122223333 x_111122223333", FindAccountIDs, nil},
		{"arn", "User: arn:aws-us-gov:sts::111122223333:assumed-role/x", submatchFinder(ARNAccount), []string{"111122223333"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range tt.find(tt.in) {
				got = append(got, tt.in[m[0]:m[1]])
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("find(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

type matcher interface {
	FindAllStringIndex(string, int) [][]int
	FindAllStringSubmatchIndex(string, int) [][]int
}

func regexpFinder(re matcher) func(string) [][2]int {
	return func(s string) [][2]int {
		var out [][2]int
		for _, m := range re.FindAllStringIndex(s, -1) {
			out = append(out, [2]int{m[0], m[1]})
		}
		return out
	}
}

func submatchFinder(re matcher) func(string) [][2]int {
	return func(s string) [][2]int {
		var out [][2]int
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			out = append(out, [2]int{m[2], m[3]})
		}
		return out
	}
}
