package distributed_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/rnnkit/rnnkit/distributed"
)

// Three in-process ranks sum their vectors and take rank 2's broadcast.
func ExampleNewLocal() {
	comms, err := distributed.NewLocal(3, time.Minute)
	if err != nil {
		fmt.Println(err)
		return
	}
	out := make([][]float64, len(comms))
	var wg sync.WaitGroup
	for k, c := range comms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := []float64{float64(k), 1}
			if err := c.AllreduceSum(x); err != nil {
				fmt.Println(err)
				return
			}
			y := []float64{float64(10 * k)}
			if err := c.Broadcast(y, 2); err != nil {
				fmt.Println(err)
				return
			}
			out[k] = append(x, y...)
		}()
	}
	wg.Wait()
	fmt.Println(out)
	// Output: [[3 3 20] [3 3 20] [3 3 20]]
}
