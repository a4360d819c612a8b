// The Go time-control probe: what Go's runtime (which parses the vDSO itself and never calls
// libc) sees under vdsorun --time/--rate/--freeze. Lines as the C probes'.
//   now        time.Now() (wall seconds and nanoseconds)
//   sleep MS   time.Sleep(MS): the wall and monotonic time it took, as the program sees it
//   spin N     N calls of time.Now(): the smallest and largest wall clock value
//   t32 N      N lines of the wall clock's seconds as a 32-bit integer, a second apart
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

func main() {
	cmd := "now"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "now":
		n := time.Now()
		fmt.Printf("now unix=%d ns=%d utc=%s\n", n.Unix(), n.UnixNano(), n.UTC().Format(time.RFC3339))
	case "sleep":
		ms, _ := strconv.Atoi(os.Args[2])
		start := time.Now()
		time.Sleep(time.Duration(ms) * time.Millisecond)
		mono := time.Since(start)
		wall := time.Now().Round(0).Sub(start.Round(0))
		fmt.Printf("sleep mono_ms=%d rt_ms=%d\n", mono.Milliseconds(), wall.Milliseconds())
	case "spin":
		n, _ := strconv.Atoi(os.Args[2])
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for i := 0; i < n; i++ {
			v := time.Now().UnixNano()
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		fmt.Printf("spin min=%d max=%d\n", lo, hi)
	case "t32":
		n, _ := strconv.Atoi(os.Args[2])
		for i := 0; i < n; i++ {
			fmt.Printf("t32 value=%d\n", int32(time.Now().Unix()))
			if i+1 < n {
				time.Sleep(time.Second)
			}
		}
	default:
		os.Exit(2)
	}
}
