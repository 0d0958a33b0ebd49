// Package metrics defines papermail's Prometheus metrics in one registry
// that the web server exposes at /metrics.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector.
type Metrics struct {
	Registry *prometheus.Registry

	Messages       *prometheus.CounterVec // result: sent|retry|bounced|failed|skipped; reason
	RunDuration    prometheus.Histogram
	Subscribers    *prometheus.GaugeVec // state
	PapersIngested *prometheus.CounterVec
	FeedErrors     *prometheus.CounterVec
	// FeedFailures is each feed's count of failed fetches in a row (0
	// after a success); FeedLastSuccess the time of its last success.
	FeedFailures    *prometheus.GaugeVec
	FeedLastSuccess *prometheus.GaugeVec
	SMTPLatency     prometheus.Histogram
	Panics          prometheus.Counter
}

// New creates the collectors in a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "papermail_messages_total", Help: "Mail delivery attempts by result (sent, retry, bounced, failed, skipped) and reason.",
		}, []string{"result", "reason"}),
		RunDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "papermail_run_duration_seconds", Help: "Duration of digest runs.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 10),
		}),
		Subscribers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "papermail_subscribers", Help: "Subscribers by state.",
		}, []string{"state"}),
		PapersIngested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "papermail_papers_ingested_total", Help: "Papers stored by ingest, by result (added, updated).",
		}, []string{"result"}),
		FeedErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "papermail_feed_fetch_errors_total", Help: "Failed feed fetches by feed URL.",
		}, []string{"feed"}),
		FeedFailures: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "papermail_feed_failures_in_a_row", Help: "Failed fetches since the feed's last success, by feed URL.",
		}, []string{"feed"}),
		FeedLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "papermail_feed_last_success_timestamp_seconds", Help: "Unix time of the feed's last successful fetch, by feed URL.",
		}, []string{"feed"}),
		SMTPLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "papermail_smtp_latency_seconds", Help: "Time for the SMTP server to accept one message.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		Panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "papermail_panics_total", Help: "Panics recovered in background work.",
		}),
	}
	m.Registry.MustRegister(m.Messages, m.RunDuration, m.Subscribers, m.PapersIngested, m.FeedErrors, m.FeedFailures, m.FeedLastSuccess, m.SMTPLatency, m.Panics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// OnAttempt is a mailer hook recording one delivery attempt.
func (m *Metrics) OnAttempt(result, reason string, latency time.Duration) {
	if m == nil {
		return
	}
	m.Messages.WithLabelValues(result, reason).Inc()
	if result == "sent" {
		m.SMTPLatency.Observe(latency.Seconds())
	}
}

// ObserveFeed records a feed's health after a fetch.
func (m *Metrics) ObserveFeed(feed string, failuresInARow int, lastSuccess time.Time) {
	if m == nil {
		return
	}
	m.FeedFailures.WithLabelValues(feed).Set(float64(failuresInARow))
	if !lastSuccess.IsZero() {
		m.FeedLastSuccess.WithLabelValues(feed).Set(float64(lastSuccess.Unix()))
	}
}
