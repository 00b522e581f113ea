package fakeaws

import (
	"fmt"
	"reflect"
	"testing"
)

func TestDefaultsAreFreshCopies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		list   func() any
		change func()
	}{
		{"DefaultCredentials", func() any { return DefaultCredentials() }, func() { DefaultCredentials()[0].AccessKeyID = "changed" }},
		{"DefaultProducts", func() any { return DefaultProducts() }, func() { DefaultProducts()[0] = "changed" }},
		{"DefaultCustomers", func() any { return DefaultCustomers() }, func() { DefaultCustomers()[0].Token = "changed" }},
		{"Reserved", func() any { return Reserved() }, func() { Reserved()[0].Value = "changed" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if reflect.ValueOf(tc.list()).Len() == 0 {
				t.Fatalf("%s() is empty, want the built-in values", tc.name)
			}
			want := fmt.Sprintf("%+v", tc.list())
			tc.change()
			if got := fmt.Sprintf("%+v", tc.list()); got != want {
				t.Errorf("%s() after a caller changed its copy = %v, want %v", tc.name, got, want)
			}
		})
	}
}
