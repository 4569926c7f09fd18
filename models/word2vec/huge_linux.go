//go:build linux

package word2vec

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks Linux to back the 2 MiB-aligned interior of w with
// transparent huge pages (madvise MADV_HUGEPAGE; where the system's policy
// is "madvise", as on Debian, it is otherwise not done): the training
// threads read rows of the weight matrices at random, and with 4 KiB pages
// most of those reads also miss the TLB. It changes no value; an error
// (an old kernel, huge pages off) is ignored.
func adviseHuge(w []float32) {
	const huge = 2 << 20
	if len(w)*4 < 2*huge {
		return
	}
	start := uintptr(unsafe.Pointer(&w[0]))
	i0 := int((huge-start%huge)%huge) / 4 // the first element on a 2 MiB boundary
	n := (len(w) - i0) * 4 / huge * huge  // whole huge pages from there
	if n <= 0 {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(&w[i0])), n), 14) // MADV_HUGEPAGE
}
