package render
import ("testing";"io";"bytes")
func cpuLoop(b *testing.B, f func()) { b.ReportAllocs(); n := 0; c0 := cpuTime(); for b.Loop() { f(); n++ }; b.ReportMetric(float64(cpuTime()-c0)/float64(n), "cpu-ns/op") }
func BenchmarkParts(b *testing.B) {
	e := testEngine(b)
	v := maxDigest(8)
	for i := range v.Papers { p := &v.Papers[i]; p.Title = Shorten(p.Title, 90); p.TitleParts = ShortenParts(p.TitleParts, 90) }
	b.Run("subject", func(b *testing.B){ cpuLoop(b, func() { e.digest.subject.Execute(io.Discard, v) }) })
	b.Run("text", func(b *testing.B){ cpuLoop(b, func() { e.digest.text.Execute(io.Discard, v) }) })
	b.Run("html", func(b *testing.B){ cpuLoop(b, func() { e.digest.html.Execute(io.Discard, v) }) })
	var buf bytes.Buffer
	for i, n := range []string{"fsubject","ftext","fhtml"} {
	b.Run(n, func(b *testing.B){ cpuLoop(b, func() { buf.Reset(); e.digest.fast[i].execute(&buf, v) }) })
	}
}
