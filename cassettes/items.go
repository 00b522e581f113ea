package cassettes

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// parseItems decodes a cassette in the canonical layout that Writer
// appends (the header, then one "    - request:" item per interaction)
// item by item, on every core. Decoding the whole document at once builds
// a node tree of the entire file, many times its size; item by item, only
// one item's tree lives at a time per core. It reports false for anything
// else (another layout, a torn or invalid item), which the caller then
// decodes whole, so errors and their line numbers come from one place.
func parseItems(data []byte) (file, bool) {
	body, ok := bytes.CutPrefix(data, []byte(header))
	if !ok || len(body) == 0 || !bytes.HasPrefix(body, []byte(itemStart[1:])) {
		return file{}, false
	}
	// Inside an item every line is indented by more than four spaces (block
	// scalars and continuation lines included), so this marker starts items
	// and nothing else.
	var items [][]byte
	for len(body) > 0 {
		next := bytes.Index(body[1:], []byte(itemStart))
		if next < 0 {
			items = append(items, body)
			break
		}
		items = append(items, body[:next+2])
		body = body[next+2:]
	}
	out := make([]*Interaction, len(items))
	workers := min(runtime.GOMAXPROCS(0), len(items))
	var bad atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(items); i += workers {
				var one struct {
					Interactions []*Interaction `yaml:"interactions"`
				}
				doc := append([]byte("interactions:\n"), items[i]...)
				if err := yaml.Unmarshal(doc, &one); err != nil || len(one.Interactions) != 1 {
					bad.Store(true)
					return
				}
				out[i] = one.Interactions[0]
			}
		}()
	}
	wg.Wait()
	if bad.Load() {
		return file{}, false
	}
	return file{Version: FormatVersion, Interactions: out}, true
}
