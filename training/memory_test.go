package training

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// rssKiB returns the process's resident set size (VmRSS of
// /proc/self/status), 0 where there is none.
func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// memChildEnv marks the process TestMemoryFlat runs its measurement in.
const memChildEnv = "RNNKIT_MEM_CHILD"

// memSteps is the length of TestMemoryFlat: RNNKIT_MEM_STEPS, or 300.
func memSteps(t *testing.T) int {
	if v := os.Getenv("RNNKIT_MEM_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 {
			t.Fatalf("RNNKIT_MEM_STEPS=%q: want a count of at least 200", v)
		}
		return n
	}
	return 300
}

// Training a small Seq2Seq model (attention, two layers, dropout, graphs
// cached per batch shape, an evaluation and a checkpoint every 10 epochs) keeps
// its memory flat: the live heap after a collection and the resident set
// size, sampled every 100 steps, do not grow after step 100. The full form
// is 5,000 steps:
//
//	RNNKIT_MEM_STEPS=5000 go test ./training -run TestMemoryFlat -v -timeout 30m
func TestMemoryFlat(t *testing.T) {
	if os.Getenv(memChildEnv) == "" {
		// A process of its own, so that the collector's heap target (and
		// with it the allocator's slack in the RSS and the race
		// detector's shadow of it) is set by this run alone. (The
		// package's other tests once left about 110 MB reachable: every
		// compiled graph, kept by Gorgonia's finalizer on tape machines;
		// graph.NewMachine now clears it, TestMachineCycleCollected.)
		cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryFlat$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), memChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("in a process of its own:\n%s", out)
		if err != nil {
			t.Fatalf("TestMemoryFlat in its own process: %v", err)
		}
		return
	}
	steps := memSteps(t)
	tr, _ := smallRun(t, 0.2)
	// Buckets 8 wide: every batch of the addition task has one of a few
	// shapes, so the caches are full by step 100.
	s2s(tr).Cfg.BucketWidth = 8
	ctx := context.Background()
	type sample struct {
		step      int
		rss, heap int64 // KiB
	}
	var samples []sample
	take := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := sample{tr.Step, rssKiB(), int64(ms.HeapAlloc >> 10)}
		samples = append(samples, s)
		t.Logf("step %5d  RSS %7d KiB  live heap %6d KiB  (%d graphs cached)", s.step, s.rss, s.heap, tr.train.Len()+tr.eval.Len())
	}
	for tr.Step < steps {
		_, done, err := tr.TrainEpoch(ctx, nil, func() bool { return tr.Step%100 == 0 || tr.Step >= steps })
		if err != nil {
			t.Fatal(err)
		}
		if !done && tr.Step%100 == 0 {
			take()
		}
		if done && tr.Epoch%10 == 0 {
			if _, err := tr.Evaluate(ctx, tr.Test); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Checkpoint(nil); err != nil {
				t.Fatal(err)
			}
		}
		if done && tr.Step%100 == 0 {
			take()
		}
	}
	first, last := samples[0], samples[len(samples)-1]
	maxRSS, maxHeap := first, first
	for _, s := range samples {
		if s.rss > maxRSS.rss {
			maxRSS = s
		}
		if s.heap > maxHeap.heap {
			maxHeap = s
		}
	}
	t.Logf("step %d → %d: RSS %d → %d KiB (max %d at step %d), live heap %d → %d KiB (max %d at step %d)",
		first.step, last.step, first.rss, last.rss, maxRSS.rss, maxRSS.step, first.heap, last.heap, maxHeap.heap, maxHeap.step)
	// The graph caches are full after the first epochs; from then on
	// nothing may accumulate. 2 MiB of live heap and 32 MiB of RSS leave
	// room for the collector's and the allocator's own slack.
	if growth := last.heap - first.heap; growth > 2<<10 {
		t.Errorf("live heap grew by %d KiB from step %d to %d", growth, first.step, last.step)
	}
	if first.rss > 0 && last.rss-first.rss > 32<<10 {
		t.Errorf("RSS grew by %d KiB from step %d to %d", last.rss-first.rss, first.step, last.step)
	}
}
