package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes/audit"
)

// inspectJSON returns the report inspect --format json prints for args.
func inspectJSON(t *testing.T, args ...string) audit.Report {
	t.Helper()
	code, out, errOut := runApp(t, append([]string{"inspect", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("inspect --format json %v: exit %d, stderr %q", args, code, errOut)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("inspect --format json %v: %v", args, err)
	}
	return rep
}

// The tests below run the app in-process, which is not parallel: every
// run applies urfave/cli's one HelpFlag.

func TestInspectHTMLCommand(t *testing.T) {
	folder := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yml", "notes.txt"} {
		src := demoCassette
		if name == "b.yml" {
			src = inspectCassette
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		args  []string
		paths []string // the cassettes the page must name, in order
	}{
		{"files", []string{demoCassette, inspectCassette}, []string{demoCassette, inspectCassette}},
		{"folder", []string{folder}, []string{filepath.Join(folder, "a.yaml"), filepath.Join(folder, "b.yml")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := filepath.Join(t.TempDir(), "audit.html")
			code, out, errOut := runApp(t, append([]string{"inspect", "--format", "html", "-o", page}, tc.args...)...)
			if code != 0 || out != "" {
				t.Fatalf("inspect --format html -o: exit %d, stdout %q, stderr %q; want 0 and nothing printed", code, out, errOut)
			}
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			var at []int
			for _, p := range tc.paths {
				at = append(at, bytes.Index(b, []byte(fmt.Sprintf(`data-path="%s"`, p))))
			}
			for i, n := range at {
				if n < 0 || i > 0 && n < at[i-1] {
					t.Errorf("page sections of %v at %v, want each once and in order", tc.paths, at)
					break
				}
			}
			rep := inspectJSON(t, tc.args...)
			for _, h := range rep.Hours {
				if want := fmt.Sprintf(`data-hour="%s" data-quantity="%d"`, h.Hour, h.Quantity); !bytes.Contains(b, []byte(want)) {
					t.Errorf("page lacks the bar %s, want every hour of inspect --format json", want)
				}
			}
		})
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"empty folder", []string{"inspect", "--format", "html", empty}, "holds no *.yaml or *.yml cassette"},
		{"unknown format", []string{"inspect", "--format", "pdf", demoCassette}, "want table, json, csv or html"},
	} {
		if code, _, errOut := runApp(t, tc.args...); code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: %v: exit %d, stderr %q; want 2 and %q", tc.name, tc.args, code, errOut, tc.want)
		}
	}
}

// chromiumFlags keep headless Chromium off the network and out of the
// user's profile.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
	"--window-size=1200,1600"}

// chromium runs headless Chromium with its own profile and returns its
// standard output and error.
func chromium(t *testing.T, bin string, args ...string) (string, string) {
	t.Helper()
	// Chromium's helpers may still write to the profile as it exits, which
	// t.TempDir's cleanup reports as an error; this folder is removed
	// without that check.
	profile, err := os.MkdirTemp("", "metervcr-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(append(append([]string(nil), chromiumFlags...), "--user-data-dir="+profile), args...)...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v; stderr:\n%s", args, err, errOut.String())
	}
	return out.String(), errOut.String()
}

// TestInspectHTMLInBrowser renders the page of the demo cassette in
// headless Chromium: the screenshot is not blank, the DOM holds the
// report's numbers, and the page logs no script error.
func TestInspectHTMLInBrowser(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (%v); make test installs it (Debian package chromium), or: apt-get install chromium", err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "audit.html")
	if code, _, errOut := runApp(t, "inspect", "--format", "html", "-o", page, demoCassette, inspectCassette); code != 0 {
		t.Fatalf("inspect --format html: exit %d, stderr %q", code, errOut)
	}
	url := "file://" + filepath.ToSlash(page)

	shot := filepath.Join(dir, "page.png")
	_, shotLog := chromium(t, bin, "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v; chromium said:\n%s", err, shotLog)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	b := img.Bounds()
	inked := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				inked++
			}
		}
	}
	if total := b.Dx() * b.Dy(); inked*20 < total {
		t.Errorf("screenshot has %d of %d pixels that are not white, want at least 5%%: the page looks blank", inked, total)
	}

	dom, domLog := chromium(t, bin, "--dump-dom", url)
	rep := inspectJSON(t, demoCassette, inspectCassette)
	var want []string
	for _, h := range rep.Hours {
		want = append(want, fmt.Sprintf(`data-hour="%s" data-quantity="%d"`, h.Hour, h.Quantity))
	}
	for _, tot := range rep.Totals {
		want = append(want, fmt.Sprintf(`<td class="num">%d</td>`, tot.Quantity))
	}
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered DOM lacks %s, want every hour and total of inspect --format json", w)
		}
	}
	for _, log := range []string{shotLog, domLog} {
		for _, bad := range []string{"Uncaught", "CONSOLE"} {
			if strings.Contains(log, bad) {
				t.Errorf("chromium logged %q while showing the page, want no console message:\n%s", bad, log)
			}
		}
	}
}
