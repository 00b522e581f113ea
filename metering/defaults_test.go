package metering

import (
	"slices"
	"testing"
)

func TestFactListsAreFreshCopies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		list func() []string
	}{
		{"IgnoredHeaders", IgnoredHeaders},
		{"IgnoredBodyFields", IgnoredBodyFields},
		{"VolatileResponseFields", VolatileResponseFields},
		{"TimestampFields", TimestampFields},
		{"RedactedHeaders", RedactedHeaders},
		{"Operations", Operations},
		{"SecretFields", SecretFields},
		{"AccountIDFields", AccountIDFields},
		{"ARNFields", ARNFields},
		{"PresignParams", PresignParams},
		{"RedactedBodyFields paths", func() []string {
			var paths []string
			for _, r := range RedactedBodyFields() {
				paths = append(paths, r.Path)
			}
			return paths
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := slices.Clone(tc.list())
			if len(want) == 0 {
				t.Fatalf("%s() is empty, want the service's list", tc.name)
			}
			changed := tc.list()
			changed[0] = "changed-by-a-caller"
			if got := tc.list(); !slices.Equal(got, want) {
				t.Errorf("%s() after a caller changed its copy = %q, want %q", tc.name, got, want)
			}
		})
	}
}

func TestRedactedBodyFieldsIsAFreshCopy(t *testing.T) {
	t.Parallel()
	want := slices.Clone(RedactedBodyFields())
	RedactedBodyFields()[0].Kind = "changed-by-a-caller"
	if got := RedactedBodyFields(); !slices.Equal(got, want) {
		t.Errorf("RedactedBodyFields() after a caller changed its copy = %v, want %v", got, want)
	}
}

func TestMembership(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		is   func(string) bool
		list func() []string
		not  string
	}{
		{"IsSecretField", IsSecretField, SecretFields, "CustomerIdentifier"},
		{"IsAccountIDField", IsAccountIDField, AccountIDFields, "CustomerIdentifier"},
		{"IsARNField", IsARNField, ARNFields, "ProductCode"},
		{"IsPresignParam", IsPresignParam, PresignParams, "X-Amz-Date"},
		{"IsRedactedHeader", IsRedactedHeader, RedactedHeaders, "User-Agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, name := range tc.list() {
				if !tc.is(name) {
					t.Errorf("%s(%q) = false, want true", tc.name, name)
				}
			}
			if tc.is(tc.not) {
				t.Errorf("%s(%q) = true, want false", tc.name, tc.not)
			}
		})
	}
}
