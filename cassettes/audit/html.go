package audit

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"

	"github.com/metervcr/metervcr/cassettes/redact"
)

//go:embed html.tmpl
var htmlText string

// htmlPage is parsed once: the template is fixed, and a page that cannot
// be parsed is a programmer's error found by any test.
var htmlPage = template.Must(template.New("page").Parse(htmlText))

// Chart geometry in pixels: one slot per hour, bars scaled to the series'
// largest hour.
const (
	chartSlot   = 128 // width of one hour: a bar and its hour label
	chartBar    = 72
	chartPlot   = 140 // height of the tallest bar
	chartTop    = 20  // room for the quantity above a bar
	chartBottom = 28  // room for the hour below the axis
)

// page is what the template draws: the report itself, with the chart's
// geometry and the verify findings of each cassette beside it.
type page struct {
	Report    *Report
	Charts    []chart
	Attention []attention
	Cassettes []cassettePage
}

// chart is the accepted usage of one product and dimension, per hour.
type chart struct {
	ProductCode, Dimension string
	Width, Height, Axis    int
	Bars                   []bar
}

type bar struct {
	HourTotal
	X, Y, W, H, Mid, Below int
}

// attention is a record AWS did not meter, or an error answer that
// carried none.
type attention struct {
	Path string
	InteractionReport
	Record *UsageRecord
}

type cassettePage struct {
	CassetteReport
	Findings []redact.Finding
}

// WriteHTML writes rep as one HTML page that needs nothing beyond itself
// (inline styles and SVG, no script and no link to fetch): accepted usage
// per product, dimension and hour as bar charts, the totals, the records
// AWS did not meter and the error answers, and per cassette its
// interactions and findings[i], what verify found in rep.Cassettes[i]
// (none means clean). findings may be shorter than rep.Cassettes.
func (rep *Report) WriteHTML(w io.Writer, findings [][]redact.Finding) error {
	p := page{Report: rep, Charts: charts(rep.Hours)}
	for i, c := range rep.Cassettes {
		cp := cassettePage{CassetteReport: c}
		if i < len(findings) {
			cp.Findings = findings[i]
		}
		p.Cassettes = append(p.Cassettes, cp)
		for _, in := range c.Interactions {
			if in.Error != "" && len(in.Records) == 0 {
				p.Attention = append(p.Attention, attention{Path: c.Path, InteractionReport: in})
			}
			for k := range in.Records {
				if !in.Records[k].Metered() {
					p.Attention = append(p.Attention, attention{Path: c.Path, InteractionReport: in, Record: &in.Records[k]})
				}
			}
		}
	}
	bw := bufio.NewWriter(w)
	if err := htmlPage.Execute(bw, p); err != nil {
		return fmt.Errorf("writing html: %w", err)
	}
	return bw.Flush()
}

// charts groups the hour totals, which Inspect sorts by hour, into one
// chart per product and dimension, sorted by product then dimension.
func charts(hours []HourTotal) []chart {
	var out []chart
	at := make(map[[2]string]int)
	for _, h := range hours {
		k := [2]string{h.ProductCode, h.Dimension}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, chart{ProductCode: h.ProductCode, Dimension: h.Dimension})
		}
		out[i].Bars = append(out[i].Bars, bar{HourTotal: h})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].ProductCode+"\x00"+out[i].Dimension < out[j].ProductCode+"\x00"+out[j].Dimension
	})
	for i := range out {
		c := &out[i]
		var top int64 = 1
		for _, b := range c.Bars {
			top = max(top, b.Quantity)
		}
		c.Axis = chartTop + chartPlot
		c.Width = max(len(c.Bars), 1) * chartSlot
		c.Height = c.Axis + chartBottom
		for k := range c.Bars {
			b := &c.Bars[k]
			b.H = max(int(float64(b.Quantity)/float64(top)*chartPlot), 1)
			b.W = chartBar
			b.X = k*chartSlot + (chartSlot-chartBar)/2
			b.Y = c.Axis - b.H
			b.Mid = k*chartSlot + chartSlot/2
			b.Below = c.Axis + 16
		}
	}
	return out
}

// Metered reports whether AWS accepted the record: its result is Success.
func (r UsageRecord) Metered() bool { return r.Result == ResultSuccess }
