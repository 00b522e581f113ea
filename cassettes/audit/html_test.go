package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

// pageCase is a set of cassettes to draw: the inspect test cassette and
// the demo, alone and together.
type pageCase struct {
	name string
	cs   []*cassettes.Cassette
}

func pageCases(t *testing.T) []pageCase {
	t.Helper()
	demo, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	in := loadInspectCassette(t)
	return []pageCase{
		{"inspect", []*cassettes.Cassette{in}},
		{"demo", []*cassettes.Cassette{demo}},
		{"both", []*cassettes.Cassette{in, demo}},
		{"empty", []*cassettes.Cassette{{Path: "empty.yaml"}}},
	}
}

// render returns the page of cs, parsed, and the report as inspect
// --format json prints it, read back.
func render(t *testing.T, findings [][]redact.Finding, cs ...*cassettes.Cassette) (*html.Node, Report) {
	t.Helper()
	rep := Inspect(cs...)
	var page, js bytes.Buffer
	if err := rep.WriteHTML(&page, findings); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var fromJSON Report
	if err := json.Unmarshal(js.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&page)
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	return doc, fromJSON
}

// walk calls f on n and every node below it, in document order.
func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
}

// text returns the text below n, its white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data + " ")
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestHTMLChartsAndTotalsMatchJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range pageCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, rep := render(t, nil, tc.cs...)
			var bars []HourTotal
			walk(doc, func(n *html.Node) {
				if !hasClass(n, "series") {
					return
				}
				walk(n, func(h *html.Node) {
					if !hasClass(h, "hour") {
						return
					}
					q, err := strconv.ParseInt(attr(h, "data-quantity"), 10, 64)
					if err != nil {
						t.Errorf("bar data-quantity %q: %v", attr(h, "data-quantity"), err)
					}
					bars = append(bars, HourTotal{attr(h, "data-hour"), attr(n, "data-product"), attr(n, "data-dimension"), q})
					walk(h, func(l *html.Node) {
						if hasClass(l, "quantity") && text(l) != strconv.FormatInt(q, 10) {
							t.Errorf("bar %s %s label = %q, want %d", attr(n, "data-dimension"), attr(h, "data-hour"), text(l), q)
						}
					})
				})
			})
			if got, want := hourSet(bars), hourSet(rep.Hours); got != want {
				t.Errorf("chart bars:\n%s\nwant the json hours:\n%s", got, want)
			}
			var rows []string
			walk(doc, func(n *html.Node) {
				if n.Type == html.ElementNode && n.Data == "table" && attr(n, "id") == "totals" {
					walk(n, func(r *html.Node) {
						if r.Type == html.ElementNode && r.Data == "tr" && r.Parent.Data == "tbody" {
							rows = append(rows, text(r))
						}
					})
				}
			})
			var want []string
			for _, tot := range rep.Totals {
				want = append(want, fmt.Sprintf("%s %s %s %d", tot.ProductCode, tot.Dimension, cmp.Or(tot.CustomerIdentifier, "-"), tot.Quantity))
			}
			if strings.Join(rows, "\n") != strings.Join(want, "\n") {
				t.Errorf("totals rows:\n%s\nwant the json totals:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
			}
			if len(rep.Hours) == 0 && (len(bars) != 0 || !strings.Contains(text(doc), "No usage was metered.")) {
				t.Errorf("page without usage has %d bars and text %q, want none and %q", len(bars), text(doc), "No usage was metered.")
			}
		})
	}
}

// hourSet writes hour totals one a line, sorted as Inspect sorts them.
func hourSet(hs []HourTotal) string {
	lines := make([]string, len(hs))
	for i, h := range hs {
		lines[i] = fmt.Sprintf("%s %s %s %d", h.Hour, h.ProductCode, h.Dimension, h.Quantity)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// fetching finds what would make a browser fetch: a URL with a scheme in
// an attribute, or url( in a style.
var fetching = regexp.MustCompile(`(?i)(https?:|url\()`)

func TestHTMLFetchesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range pageCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, _ := render(t, nil, tc.cs...)
			walk(doc, func(n *html.Node) {
				if n.Type != html.ElementNode {
					return
				}
				switch n.Data {
				case "script", "link", "img", "iframe", "object", "embed", "image", "use":
					t.Errorf("page has a <%s> element, want none: it may fetch", n.Data)
				case "style":
					if m := fetching.FindString(text(n)); m != "" {
						t.Errorf("style holds %q, want no reference", m)
					}
				}
				for _, a := range n.Attr {
					key := strings.ToLower(a.Key)
					if key == "src" || strings.HasSuffix(key, "href") || key == "style" || key == "xmlns" {
						if m := fetching.FindString(a.Val); m != "" {
							t.Errorf("<%s %s=%q> holds %q, want no reference", n.Data, a.Key, a.Val, m)
						}
					}
				}
			})
		})
	}
}

// punctuation may stand around a word of the page or the report.
const punctuation = "():.,"

// digits finds the numbers a page shows.
var digits = regexp.MustCompile(`[0-9]`)

// reportWords returns every value of the report as inspect --format json
// prints it, each word of those values, and the lengths of its lists:
// the only places a number on the page may come from.
func reportWords(rep Report, findings [][]redact.Finding) map[string]bool {
	b, _ := json.Marshal(rep)
	var doc any
	json.Unmarshal(b, &doc) // it was just written
	words := make(map[string]bool)
	add := func(s string) {
		words[s] = true
		for _, w := range strings.Fields(s) {
			words[strings.Trim(w, punctuation)] = true
		}
	}
	var visit func(any)
	visit = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, e := range v {
				visit(e)
			}
		case []any:
			add(strconv.Itoa(len(v)))
			for _, e := range v {
				visit(e)
			}
		case float64:
			add(strconv.FormatFloat(v, 'f', -1, 64))
		case string:
			add(v)
		}
	}
	visit(doc)
	for _, fs := range findings {
		add(strconv.Itoa(len(fs)))
		for _, f := range fs {
			add(f.String())
		}
	}
	return words
}

func TestHTMLNumbersComeFromReport(t *testing.T) {
	t.Parallel()
	for _, tc := range pageCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			findings := [][]redact.Finding{{{Interaction: 2, Where: "request header Authorization", What: "SigV4 signature in clear"}}}
			doc, rep := render(t, findings, tc.cs...)
			words := reportWords(rep, findings)
			shown := 0
			walk(doc, func(n *html.Node) {
				if n.Type != html.TextNode || n.Parent == nil || n.Parent.Data == "style" {
					return
				}
				for _, w := range strings.Fields(n.Data) {
					w = strings.Trim(w, punctuation)
					if !digits.MatchString(w) {
						continue
					}
					shown++
					if !words[w] {
						t.Errorf("page shows %q in <%s>, which is no value of the report", w, n.Parent.Data)
					}
				}
			})
			if shown == 0 {
				t.Errorf("page shows no number at all, want the report's")
			}
		})
	}
}

func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert("x")</script><img src=https://example.invalid/x>`
	rep := &Report{
		Cassettes: []CassetteReport{{Path: evil + ".yaml", Interactions: []InteractionReport{{Operation: "MeterUsage", Status: 200,
			Records: []UsageRecord{{ProductCode: evil, Dimension: evil, Quantity: 1, Result: ResultSuccess}}}}}},
		Totals: []Total{{ProductCode: evil, Dimension: evil, Quantity: 1}},
		Hours:  []HourTotal{{Hour: "2026-11-28T03:00Z", ProductCode: evil, Dimension: evil, Quantity: 1}},
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page, [][]redact.Finding{{{Interaction: 0, Where: evil, What: evil}}}); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&page)
	if err != nil {
		t.Fatal(err)
	}
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "img") {
			t.Errorf("page has a <%s> element from a cassette's text, want it escaped", n.Data)
		}
	})
	if got := strings.Count(text(doc), evil); got < 5 {
		t.Errorf("page shows the cassette's text %d times as text, want at least 5 (chart, totals, cassette, record, finding)", got)
	}
}

func TestHTMLHighlightsWhatWasNotMetered(t *testing.T) {
	t.Parallel()
	doc, rep := render(t, nil, loadInspectCassette(t))
	var want []string
	for _, c := range rep.Cassettes {
		for _, in := range c.Interactions {
			if in.Error != "" && len(in.Records) == 0 {
				want = append(want, fmt.Sprintf("%d %s", in.Index, in.Error))
			}
			for _, r := range in.Records {
				if r.Result != ResultSuccess {
					want = append(want, fmt.Sprintf("%d %s", in.Index, r.Result))
				}
			}
		}
	}
	var got []string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "table" && attr(n, "id") == "attention" {
			walk(n, func(r *html.Node) {
				if r.Type != html.ElementNode || r.Data != "tr" || r.Parent.Data != "tbody" {
					return
				}
				if !hasClass(r, "bad") && !hasClass(r, "warn") {
					t.Errorf("row %q is not highlighted, want class bad or warn", text(r))
				}
				var cells []string
				for c := r.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode {
						cells = append(cells, text(c))
					}
				}
				got = append(got, cells[1]+" "+cells[len(cells)-1])
			})
		}
	})
	if len(want) == 0 {
		t.Fatal("testdata/inspect.yaml has no record left unmetered, want some to show")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("not-metered rows (interaction, result):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHTMLVerifyStatus(t *testing.T) {
	t.Parallel()
	dirty := redact.Finding{Interaction: 1, Where: "request header Authorization", What: "SigV4 Authorization value in clear"}
	for _, tc := range []struct {
		name     string
		findings [][]redact.Finding
		class    string
		items    []string
	}{
		{"clean", nil, "clean", nil},
		{"findings", [][]redact.Finding{{dirty}}, "dirty", []string{dirty.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, _ := render(t, tc.findings, loadInspectCassette(t))
			var status string
			var items []string
			walk(doc, func(n *html.Node) {
				if !hasClass(n, "cassette") {
					return
				}
				walk(n, func(c *html.Node) {
					switch {
					case c.Type == html.ElementNode && c.Data == "p" && strings.HasPrefix(text(c), "verify"):
						status = attr(c, "class")
					case c.Type == html.ElementNode && c.Data == "li":
						items = append(items, text(c))
					}
				})
			})
			if status != tc.class || !slices.Equal(items, tc.items) {
				t.Errorf("verify status %q with findings %q, want %q with %q", status, items, tc.class, tc.items)
			}
		})
	}
}
