package store

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// BenchmarkRecordSent records sent digests the way a run does: one
// goroutine per SMTP connection, each waiting for its record before its
// next message, every record durable: a transaction each (Record) and
// the journal (Journal, folded by Flush at the end of each run). Measured
// here at 4 connections: 121 us a record with bbolt's Batch sized to the
// connections (the runs' way before the journal), 66 us journaled.
func BenchmarkRecordSent(b *testing.B) {
	for _, conns := range []int{1, 4, 16} {
		for _, how := range []string{"record", "journal"} {
			b.Run(fmt.Sprintf("connections=%d/%s", conns, how), func(b *testing.B) {
				s, err := Open(filepath.Join(b.TempDir(), "papermail.db"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				const n = 2000
				subs := make([]model.Subscriber, n)
				for i := range subs {
					subs[i] = model.Subscriber{Email: "r" + strconv.Itoa(i) + "@example.org", State: model.StateActive, Hour: 7, Created: time.Now()}
				}
				if _, err := s.AddSubscribers(subs); err != nil {
					b.Fatal(err)
				}
				record := s.Record
				if how == "journal" {
					record = s.Journal
				}
				date := 0
				b.ResetTimer()
				for b.Loop() {
					// One run's worth per iteration: every subscriber once.
					date++
					d := fmt.Sprintf("2026-%02d-%02d", 1+date/28%12, 1+date%28)
					if _, err := s.BeginRun(d, time.Now()); err != nil {
						b.Fatal(err)
					}
					var wg sync.WaitGroup
					for c := range conns {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := c; i < n; i += conns {
								o := Outcome{Date: d, Delivery: model.Delivery{SubscriberID: subs[i].ID, State: model.DeliverySent, Papers: []string{"2611.00001", "2611.00002"}}}
								if err := record(o); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					if err := s.Flush(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/record")
			})
		}
	}
}
