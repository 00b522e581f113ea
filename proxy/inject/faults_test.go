package inject

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want Faults
	}{
		{"", Faults{}},
		{"none", Faults{}},
		{"throttle=0.1", Faults{Throttle: 0.1}},
		{"throttle=0.1,internal-error=0.02,latency=200ms,reset=0.01",
			Faults{Throttle: 0.1, InternalError: 0.02, Reset: 0.01, Latency: 200 * time.Millisecond, LatencyFraction: 1}},
		{" throttle = 10% , unprocessed=1 ,", Faults{Throttle: 0.1, Unprocessed: 1}},
		{"latency=1.5s@0.5", Faults{Latency: 1500 * time.Millisecond, LatencyFraction: 0.5}},
		{"throttle=0.7,internal-error=0.2,reset=0.1", Faults{Throttle: 0.7, InternalError: 0.2, Reset: 0.1}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

func TestParseErrorsNameTheItem(t *testing.T) {
	t.Parallel()
	tests := []struct{ spec, want string }{
		{"throtle=0.1", `"throtle=0.1": unknown fault "throtle"`},
		{"throttle", `"throttle" is not KEY=VALUE`},
		{"throttle=2", `"throttle=2": 2 is not between 0 and 1`},
		{"reset=-0.1", `"reset=-0.1"`},
		{"internal-error=lots", `"internal-error=lots": "lots" is not a fraction`},
		{"throttle=NaN", `"throttle=NaN"`},
		{"latency=soon", `"latency=soon": "soon" is not a duration`},
		{"latency=-1s", `"latency=-1s"`},
		{"latency=1s@3", `"latency=1s@3"`},
		{"throttle=0.1,throttle=0.2", `"throttle=0.2": throttle is given twice`},
		{"throttle=0.6,internal-error=0.5", "add up to 1.1"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tt.spec)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error %q, want it to contain %q", tt.spec, err, tt.want)
		}
		if !strings.Contains(tt.want, "add up") && !strings.Contains(err.Error(), "accepted: throttle=FRACTION") {
			t.Errorf("Parse(%q) error %q does not list the accepted keys", tt.spec, err)
		}
	}
}

func TestInjectStringRoundTrips(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"none", "throttle=0.1", "throttle=0.25,internal-error=0.02,reset=0.01,unprocessed=0.5,latency=200ms@0.5", "latency=1s"} {
		in, err := Parse(spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", spec, err)
		}
		if got := in.String(); got != spec {
			t.Errorf("Parse(%q).String() = %q, want %q", spec, got, spec)
		}
	}
}
