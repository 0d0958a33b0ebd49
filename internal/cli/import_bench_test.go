package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSubscribersImport runs `papermail subscribers import` of a CSV
// of n rows into a fresh store; ns/subscriber must stay flat as n grows
// (the import is linear). 1M rows with PAPERMAIL_BENCH_1M set.
func BenchmarkSubscribersImport(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if os.Getenv("PAPERMAIL_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	topics := []string{"graph neural networks", "speech recognition; robust ASR", "mixture of experts", "protein folding", "diffusion models for video"}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			csv := filepath.Join(b.TempDir(), "subscribers.csv")
			f, err := os.Create(csv)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(f)
			fmt.Fprintln(w, "email,interests")
			for i := range n {
				// Addresses out of key order, as a real list is.
				fmt.Fprintf(w, "%x.reader%d@example.org,%s\n", uint32(i)*2654435761, i, topics[i%len(topics)])
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				installEnv(b, "LOG_LEVEL", "error")
				b.StartTimer()
				c0 := cpuTime()
				code, out, errOut := runMain(b, "subscribers", "import", csv)
				cpu += cpuTime() - c0
				if code != 0 {
					b.Fatalf("import: %d\n%s\n%s", code, out, errOut)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subscriber")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/subscriber")
		})
	}
}
