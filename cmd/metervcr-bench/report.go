package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// print writes the table of every row, then the targets computed
// from the mean ratio over the rounds.
func (b *bench) print() {
	fmt.Fprintf(b.out, "\n%d connections, %v per server per round, %d rounds, servers on CPU %s, GOMAXPROCS of the driver %d\n\n",
		b.opts.conns, b.opts.duration, b.opts.rounds, orNone(b.serverCPU), runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tserver\tcassette\trps\tp50\tp99\tpeak RSS\tready\tCPU/req\trps/base\tp50/base\tp99/base\tRSS/base\tCPU/req/base\t")
	for _, r := range b.rows {
		cols := []string{fmt.Sprint(r.round), r.server, "-", "-", "-", "-", byteSize(r.rss), ms(r.ready), "-", "-", "-", "-", "-", "-"}
		if r.file > 0 {
			cols[2] = byteSize(r.file)
		}
		if r.res != nil {
			cols[3] = fmt.Sprintf("%.0f", r.res.rps())
			cols[4], cols[5] = ms(r.res.p50), ms(r.res.p99)
			cols[8] = fmt.Sprintf("%.1f µs", r.cpuPerRequest())
		}
		if r.base != nil && r.res != nil {
			cols[9] = ratio(r.res.rps() / r.base.res.rps())
			cols[10] = ratio(float64(r.res.p50) / float64(r.base.res.p50))
			cols[11] = ratio(float64(r.res.p99) / float64(r.base.res.p99))
			cols[13] = ratio(r.cpuPerRequest() / r.base.cpuPerRequest())
		}
		if r.base != nil {
			cols[12] = ratio(float64(r.rss) / float64(r.base.rss))
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	}
	tw.Flush()
	b.targets()
}

// cpuPerRequest is the server's CPU time per answered request, in
// microseconds: unlike rps, it hardly moves when other processes take CPU
// time from the machine.
func (r *row) cpuPerRequest() float64 {
	if r.res == nil || r.res.requests == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.res.requests)
}

// targets prints each target of the issue with the figure reached.
func (b *bench) targets() {
	small, large := b.opts.sizes[0], b.opts.sizes[len(b.opts.sizes)-1]
	mean := func(f func(round int) (float64, bool)) float64 {
		sum, n := 0.0, 0
		for round := 1; round <= b.opts.rounds; round++ {
			if v, ok := f(round); ok {
				sum += v
				n++
			}
		}
		if n == 0 {
			return 0
		}
		return sum / float64(n)
	}
	find := func(round int, server string) *row {
		for _, r := range b.rows {
			if r.round == round && r.server == server {
				return r
			}
		}
		return nil
	}
	replaySmall := func(round int) *row { return find(round, fmt.Sprintf("replay %d", small)) }
	replayLarge := func(round int) *row { return find(round, fmt.Sprintf("replay %d", large)) }
	fmt.Fprintf(b.out, "\ntargets (mean over rounds):\n")
	rps := mean(func(round int) (float64, bool) {
		r := replaySmall(round)
		return r.res.rps() / r.base.res.rps(), true
	})
	p99 := mean(func(round int) (float64, bool) {
		r := replaySmall(round)
		return float64(r.res.p99) / float64(r.base.res.p99), true
	})
	check(b.out, fmt.Sprintf("1. replay %d: rps %.2f x baseline (want >= 0.8), p99 %.2f x baseline (want <= 2)", small, rps, p99), rps >= 0.8 && p99 <= 2)
	flat := mean(func(round int) (float64, bool) {
		return replayLarge(round).res.rps() / replaySmall(round).res.rps(), true
	})
	check(b.out, fmt.Sprintf("2. replay %d / replay %d: rps %.2f (want >= 0.9)", large, small, flat), flat >= 0.9)
	ready := time.Duration(mean(func(round int) (float64, bool) { return float64(replayLarge(round).ready), true }))
	rss := mean(func(round int) (float64, bool) {
		r := replayLarge(round)
		return float64(r.rss) / float64(r.file), true
	})
	check(b.out, fmt.Sprintf("3. replay %d: ready in %s (want <= 3 s), peak RSS %.2f x file size (want <= 3)", large, ms(ready), rss), ready <= 3*time.Second && rss <= 3)
	demo := time.Duration(mean(func(round int) (float64, bool) {
		return float64(find(round, "replay demo (ready only)").ready), true
	}))
	check(b.out, fmt.Sprintf("3. demo cassette: ready in %s (want <= 50 ms)", ms(demo)), demo <= 50*time.Millisecond)
	if b.opts.record {
		rec := mean(func(round int) (float64, bool) {
			r := find(round, "record (proxy + upstream)")
			return r.res.rps() / r.base.res.rps(), true
		})
		added := time.Duration(mean(func(round int) (float64, bool) {
			r := find(round, "record (proxy + upstream)")
			return float64(r.res.p50 - r.base.res.p50), true
		}))
		check(b.out, fmt.Sprintf("4. record: rps %.2f x direct (want >= 0.5), p50 %+.2f ms (want <= +1 ms)", rec, float64(added)/1e6), rec >= 0.5 && added <= time.Millisecond)
	}
	if b.opts.tls {
		fwd := mean(func(round int) (float64, bool) {
			r := find(round, forwardName(small))
			return r.res.rps() / r.base.res.rps(), true
		})
		check(b.out, fmt.Sprintf("5. replay %d forward over TLS: rps %.2f x %s (want >= 0.5)", small, fwd, bareTLSName), fwd >= 0.5)
	} else {
		fmt.Fprintln(b.out, "5. forward-proxy replay over TLS: not measured (-tls=false)")
	}
}

func check(w io.Writer, what string, ok bool) {
	mark := "MISSED"
	if ok {
		mark = "met   "
	}
	fmt.Fprintf(w, "  %s %s\n", mark, what)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func ratio(f float64) string { return fmt.Sprintf("%.2f", f) }

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func orNone(s string) string {
	if s == "" {
		return "any (not pinned)"
	}
	return s
}
