// The Go time-control probe: what Go's runtime (which parses the vDSO itself and never calls
// libc) sees under vdsorun --time/--rate/--freeze. Lines as the C probes'.
//   now        time.Now() (wall seconds and nanoseconds)
//   sleep MS   time.Sleep(MS): the wall and monotonic time it took, as the program sees it
package main

import (
	"fmt"
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
	default:
		os.Exit(2)
	}
}
