package matcher

import (
	"fmt"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
)

const benchBody = `{"ClientToken":"64f304d5-5560-4fc0-87c4-59ceea644269","ProductCode":"prodcode123example","Timestamp":1767323045.123,"UsageAllocations":[{"AllocatedUsageQuantity":10,"Tags":[{"Key":"team","Value":"blue"}]}],"UsageDimension":"requests","UsageQuantity":10}`

func BenchmarkNormalize(b *testing.B) {
	m := newMatcher(b, Default(testRedactor(b)))
	r := req("MeterUsage", benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Normalize(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup shows that lookup time does not grow with the cassette.
func BenchmarkLookup(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("interactions=%d", size), func(b *testing.B) {
			m := newMatcher(b, Default(nil))
			recs := make([]*cassettes.Interaction, size)
			for i := range recs {
				recs[i] = interaction("MeterUsage", fmt.Sprintf(`{"ProductCode":"p","UsageDimension":"d%d","UsageQuantity":10}`, i))
			}
			ix, err := NewIndex(m, recs)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := m.Normalize(req("MeterUsage", `{"ProductCode":"p","UsageDimension":"d7","UsageQuantity":10}`))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ix.Lookup(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatch is replay's per-request work in this package: the key of
// a request built in a pooled buffer, then looked up.
func BenchmarkMatch(b *testing.B) {
	m := newMatcher(b, Default(testRedactor(b)))
	r := req("MeterUsage", benchBody)
	ix, err := NewIndex(m, []*cassettes.Interaction{interaction("MeterUsage", benchBody)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ix.Match(r); err != nil {
			b.Fatal(err)
		}
	}
}
