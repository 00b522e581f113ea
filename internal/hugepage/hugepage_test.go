package hugepage

import (
	"runtime"
	"testing"
	"unsafe"
)

func TestMakeStartsOnAHugePage(t *testing.T) {
	for _, n := range []int{0, 1, Size/8 - 1, Size / 8, Size/8 + 1, 3 * Size / 8} {
		s := Make[uint64](n)
		if len(s) != n {
			t.Fatalf("Make(%d): len %d", n, len(s))
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("Make(%d): element %d is %d", n, i, s[i])
			}
		}
		if n*8 >= Size {
			if p := uintptr(unsafe.Pointer(&s[0])); p%Size != 0 {
				t.Fatalf("Make(%d) starts at %#x", n, p)
			}
			if cap(s)*8%Size != 0 {
				t.Fatalf("Make(%d): cap %d is not whole huge pages", n, cap(s))
			}
		}
	}
}

func TestGrowKeepsElements(t *testing.T) {
	var s []int64
	for i := range 1 << 19 {
		s = append(Grow(s, 1), int64(i))
	}
	for i, v := range s {
		if v != int64(i) {
			t.Fatalf("element %d is %d", i, v)
		}
	}
	type withPointers struct {
		p *int
		_ [7]int64
	}
	var ps []withPointers
	for i := range 1 << 16 { // 4 MiB: memory the collector must still trace
		ps = append(Grow(ps, 1), withPointers{p: new(int)})
		*ps[i].p = i
	}
	runtime.GC()
	for i := range ps {
		if *ps[i].p != i {
			t.Fatalf("pointer %d reads %d", i, *ps[i].p)
		}
	}
}
