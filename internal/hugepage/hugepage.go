// Package hugepage allocates large, long-lived slices whose memory the
// kernel is asked to back with huge pages, so that reading them at random
// costs fewer TLB misses. The slices are ordinary Go memory, collected as
// any other; where huge pages are not available the advice does nothing.
package hugepage

import "unsafe"

// Size is the size of a huge page.
const Size = 2 << 20

// Make returns a slice of n zero values of T. When it spans a huge page
// or more, it starts on a huge page boundary and the huge pages it covers
// are advised; the memory is untouched until written, so the advice takes
// effect as it is first written.
func Make[T any](n int) []T {
	var zero T
	size := unsafe.Sizeof(zero)
	if size == 0 || size > 8<<10 || Size%size != 0 || uintptr(n)*size < Size {
		return make([]T, n)
	}
	span := (uintptr(n)*size + Size - 1) &^ (Size - 1)   // whole huge pages
	s := make([]T, (span+Size)/size)                     // room to start on a boundary
	base := uintptr(unsafe.Pointer(unsafe.SliceData(s))) // 8 KiB aligned, and Go does not move objects
	skip := int(((base+Size-1)&^(Size-1) - base) / size) // elements before the boundary
	advise(unsafe.Slice((*byte)(unsafe.Pointer(&s[skip])), span))
	return s[skip : skip+n : skip+int(span/size)]
}

// Grow returns s with room for n more elements, as slices.Grow does, with
// the memory of Make.
func Grow[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := Make[T](max(len(s)+n, 2*cap(s), 64))[:len(s)]
	copy(out, s)
	return out
}
