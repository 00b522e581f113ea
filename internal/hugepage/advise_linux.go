package hugepage

import (
	"syscall"
	"unsafe"
)

const madvHugepage = 14 // MADV_HUGEPAGE

// advise marks the huge pages wholly inside b. Errors are ignored: the
// advice only speeds memory up.
func advise(b []byte) {
	if len(b) < Size {
		return
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	lo := (start + Size - 1) &^ (Size - 1)
	hi := (start + uintptr(len(b))) &^ (Size - 1)
	if hi <= lo {
		return
	}
	syscall.Madvise(b[lo-start:hi-start], madvHugepage)
}
