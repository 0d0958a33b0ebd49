package digest_test

import (
	"context"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/smtptest"
)

// BenchmarkRunDelivers runs whole digests the way `papermail digest`
// does, on a real bbolt file (fsync on) and a loopback SMTP server that
// discards what it receives: select, render, compose, send over four
// connections and record every outcome durably. Each iteration is one
// run, every subscriber due once for a new date (those with nothing new
// left are skipped); msgs/s is the rate of digests sent.
func BenchmarkRunDelivers(b *testing.B) {
	const n = 1000
	g := newRig(b, func(c *config.Config) { c.SMTP.Connections = 4 })
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	g.ingestPage(now)
	g.addSubscribers(n, now, nil)
	srv := smtptest.StartT(b, smtptest.Options{Discard: true})
	g.useServer(srv, nil)
	day, sent := 0, 0
	for b.Loop() {
		day++
		date := now.AddDate(0, 0, day).Format(digest.DateLayout)
		sum, err := g.r.Run(context.Background(), digest.Spec{Now: now.AddDate(0, 0, day), Date: date})
		if err != nil || sum.Sent+sum.Skipped != n {
			b.Fatalf("run %s: %v, sent %d and skipped %d of %d", date, err, sum.Sent, sum.Skipped, n)
		}
		sent += sum.Sent
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "msgs/s")
}
