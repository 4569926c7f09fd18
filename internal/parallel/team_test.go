package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTeamRunsEveryPartOnce runs many jobs on teams of 1 and 3 workers and
// with no team, from several goroutines at once (so that some find the
// team busy and use goroutines), with part counts below, at and above the
// team's size, and with pauses long enough for the workers to park: every
// part of every job runs exactly once, before run returns.
func TestTeamRunsEveryPartOnce(t *testing.T) {
	for _, tm := range []*team{nil, newTeam(1), newTeam(3)} {
		var wg sync.WaitGroup
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for job := range 300 {
					parts := 1 + (job+c)%6
					counts := make([]atomic.Int32, parts)
					tm.run(parts, func(p int) { counts[p].Add(1) })
					for p := range counts {
						if n := counts[p].Load(); n != 1 {
							t.Errorf("job %d, %d parts: part %d ran %d times", job, parts, p, n)
							return
						}
					}
					if job%50 == 0 {
						time.Sleep(2 * spinFor) // let the workers park
					}
				}
			}()
		}
		wg.Wait()
	}
}

// TestTeamZeroParts: nothing runs, nothing hangs.
func TestTeamZeroParts(t *testing.T) {
	newTeam(2).run(0, func(int) { t.Fatal("ran a part of an empty job") })
}
