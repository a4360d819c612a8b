// The Go clock probe. Go's runtime parses the vDSO itself (from the auxiliary vector on the
// stack, which vdsorun rewrites) and keeps the address of __vdso_clock_gettime in
// runtime.vdsoClockgettimeSym: the probe reports which mapping that address lies in, whether
// vdsorun's memfd mappings exist, how far time.Now strays outside a bracket of raw
// clock_gettime syscalls, and (run again with the argument "nosyscall") whether time.Now still
// reads a sane value once the time syscalls are denied by seccomp. Output lines as the C
// probes' (tests/e2e/probe_support.h).
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

//go:linkname vdsoClockgettimeSym runtime.vdsoClockgettimeSym
var vdsoClockgettimeSym uintptr

// The runtime's CLOCK_MONOTONIC reading (what time.Now's monotonic part and timers use).
// A body-less declaration: empty.s tells the compiler the package has assembly.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

const samples = 200

func rawClockNs(clock uintptr) int64 {
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clock, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return -1
	}
	return ts.Nano()
}

type mapping struct {
	start, end  uint64
	perms, name string
}

func readMaps() []mapping {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mapping
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		r := strings.SplitN(fields[0], "-", 2)
		start, _ := strconv.ParseUint(r[0], 16, 64)
		end, _ := strconv.ParseUint(r[1], 16, 64)
		name := ""
		if len(fields) > 5 {
			name = strings.Join(fields[5:], " ")
		}
		out = append(out, mapping{start, end, fields[1], name})
	}
	return out
}

func mappingName(maps []mapping, addr uint64) string {
	for _, m := range maps {
		if addr >= m.start && addr < m.end {
			if m.name == "" {
				return "anonymous"
			}
			return m.name
		}
	}
	return "unmapped"
}

func count(maps []mapping, needle string) int {
	n := 0
	for _, m := range maps {
		if strings.Contains(m.name, needle) {
			n++
		}
	}
	return n
}

// Denies the time syscalls on this thread (see probe_support.h for the same filter in C).
func denyTimeSyscalls() error {
	type sockFilter struct {
		code   uint16
		jt, jf uint8
		k      uint32
	}
	type sockFprog struct {
		len    uint16
		filter *sockFilter
	}
	const (
		ldAbs = 0x20
		jeq   = 0x15
		ret   = 0x06
		allow = 0x7fff0000
		errno = 0x00050000 | uint32(syscall.EPERM)
	)
	numbers := []uint32{syscall.SYS_CLOCK_GETTIME, syscall.SYS_GETTIMEOFDAY, syscall.SYS_TIME, 309 /* getcpu */, syscall.SYS_CLOCK_GETRES}
	f := []sockFilter{{ldAbs, 0, 0, 4}, {jeq, 1, 0, 0xc000003e}, {ret, 0, 0, allow}, {ldAbs, 0, 0, 0}}
	for i, nr := range numbers {
		f = append(f, sockFilter{jeq, uint8(len(numbers) - i), 0, nr})
	}
	f = append(f, sockFilter{ret, 0, 0, allow}, sockFilter{ret, 0, 0, errno})
	prog := sockFprog{uint16(len(f)), &f[0]}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0); e != 0 {
		return e
	}
	if _, _, e := syscall.RawSyscall(317 /* seccomp */, 1 /* SET_MODE_FILTER */, 0, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return e
	}
	return nil
}

// The child's part: time.Now with the time syscalls denied. A denied fallback leaves the
// runtime with a zero timespec, so a value near the parent's reading means a vDSO answered.
func noSyscallChild(parentNs int64) int {
	runtime.LockOSThread()
	if err := denyTimeSyscalls(); err != nil {
		fmt.Printf("nosyscall_error seccomp=%v\n", err)
		return 1
	}
	d := time.Now().UnixNano() - parentNs
	result := "ok"
	if d < 0 || d > 10*int64(time.Second) {
		result = "insane"
	}
	fmt.Printf("nosyscall call=time_now result=%s delta_ns=%d\n", result, d)
	return 0
}

func bracket(name string, clock uintptr, read func() int64) {
	var behind, ahead, width int64
	outside := 0
	for i := 0; i < samples; i++ {
		before := rawClockNs(clock)
		v := read()
		after := rawClockNs(clock)
		if v < before || v > after {
			outside++
		}
		if before-v > behind {
			behind = before - v
		}
		if v-after > ahead {
			ahead = v - after
		}
		if after-before > width {
			width = after - before
		}
	}
	fmt.Printf("bracket source=go clock=%s granularity_ns=1 samples=%d failures=0 outside=%d behind_ns=%d ahead_ns=%d width_ns=%d\n",
		name, samples, outside, behind, ahead, width)
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "nosyscall" {
		parent, _ := strconv.ParseInt(os.Args[2], 10, 64)
		os.Exit(noSyscallChild(parent))
	}
	maps := readMaps()
	fmt.Printf("probe lang=go version=%s\n", runtime.Version())
	sym := "none"
	if vdsoClockgettimeSym != 0 {
		sym = mappingName(maps, uint64(vdsoClockgettimeSym))
	}
	fmt.Printf("vdso_symbol name=runtime.vdsoClockgettimeSym addr=%#x mapping=%s\n", vdsoClockgettimeSym, sym)
	fmt.Printf("mappings vdsorun_vdso=%d vdsorun_vvar=%d kernel_vdso=%d\n",
		count(maps, "/memfd:vdsorun-vdso"), count(maps, "/memfd:vdsorun-vvar"), count(maps, "[vdso]"))

	bracket("time_now", 0 /* CLOCK_REALTIME */, func() int64 { return time.Now().UnixNano() })
	bracket("nanotime", 1 /* CLOCK_MONOTONIC */, nanotime)

	cmd := exec.Command(os.Args[0], "nosyscall", strconv.FormatInt(time.Now().UnixNano(), 10))
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Printf("nosyscall_error child=%v\n", err)
	}
	fmt.Println("done exit=0")
}
